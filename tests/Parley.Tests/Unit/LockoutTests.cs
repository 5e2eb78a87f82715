using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

public sealed class LockoutTests : IDisposable
{
    private static readonly LockoutPolicy Policy = new(3, TimeSpan.FromMinutes(1), TimeSpan.FromHours(1));
    private readonly TempDatabase _db = new();
    private readonly ManualTimeProvider _time = new();
    private readonly LockoutStore _lockouts;

    public LockoutTests() => _lockouts = new LockoutStore(_db.Database);

    public void Dispose() => _db.Dispose();

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 1)]
    [InlineData(4, 2)]
    [InlineData(5, 4)]
    [InlineData(8, 32)]
    [InlineData(9, 60)]        // 64 min, capped at an hour
    [InlineData(10_000, 60)]   // no overflow
    public void The_lock_starts_at_the_threshold_doubles_and_is_capped(long failures, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), Policy.LockFor(failures));

    [Fact]
    public void Failures_below_the_threshold_do_not_lock()
    {
        Assert.Null(_lockouts.RecordFailure("alice", _time.GetUtcNow(), Policy));
        Assert.Null(_lockouts.RecordFailure("alice", _time.GetUtcNow(), Policy));
        Assert.Null(_lockouts.LockedUntil("alice", _time.GetUtcNow()));
    }

    [Fact]
    public void The_third_failure_locks_for_a_minute_and_the_lock_ends_when_the_minute_has_passed()
    {
        var start = _time.GetUtcNow();
        FailTimes("alice", 2);
        Assert.Equal(start + TimeSpan.FromMinutes(1), _lockouts.RecordFailure("alice", start, Policy));

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(start + TimeSpan.FromMinutes(1), _lockouts.LockedUntil("alice", _time.GetUtcNow()));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(_lockouts.LockedUntil("alice", _time.GetUtcNow()));
    }

    [Fact]
    public void A_failure_after_the_lock_ends_locks_for_twice_as_long()
    {
        FailTimes("alice", 3);
        _time.Advance(TimeSpan.FromMinutes(1));
        var now = _time.GetUtcNow();
        Assert.Equal(now + TimeSpan.FromMinutes(2), _lockouts.RecordFailure("alice", now, Policy));
        Assert.Equal(now + TimeSpan.FromMinutes(2), _lockouts.LockedUntil("alice", now));
    }

    [Fact]
    public void Clearing_lifts_the_lock_and_forgets_the_failures()
    {
        FailTimes("alice", 3);
        Assert.True(_lockouts.Clear("alice"));
        Assert.Null(_lockouts.LockedUntil("alice", _time.GetUtcNow()));

        // The count starts again: two more failures are still below the threshold.
        FailTimes("alice", 2);
        Assert.Null(_lockouts.LockedUntil("alice", _time.GetUtcNow()));
    }

    [Fact]
    public void Clearing_an_id_with_no_failures_reports_nothing_to_forget() => Assert.False(_lockouts.Clear("nobody-here"));

    [Fact]
    public void Ids_differing_only_in_letter_case_share_one_count()
    {
        var now = _time.GetUtcNow();
        Assert.Null(_lockouts.RecordFailure("Alice", now, Policy));
        Assert.Null(_lockouts.RecordFailure("ALICE", now, Policy));
        Assert.NotNull(_lockouts.RecordFailure("alice", now, Policy));
        Assert.NotNull(_lockouts.LockedUntil("aLiCe", now));
        Assert.True(_lockouts.Clear("ALICE"));
        Assert.Null(_lockouts.LockedUntil("Alice", now));
    }

    [Fact]
    public void One_ids_failures_do_not_lock_another()
    {
        FailTimes("alice", 3);
        Assert.Null(_lockouts.LockedUntil("bob", _time.GetUtcNow()));
        Assert.Null(_lockouts.RecordFailure("bob", _time.GetUtcNow(), Policy));
    }

    [Fact]
    public void Prune_forgets_old_unlocked_records_but_keeps_locks_in_force_and_recent_failures()
    {
        var longLocks = new LockoutPolicy(3, TimeSpan.FromHours(1), TimeSpan.FromDays(1));
        var start = _time.GetUtcNow();
        for (var i = 0; i < 2; i++)
        {
            _lockouts.RecordFailure("old", start, longLocks);
        }

        for (var i = 0; i < 3; i++)
        {
            _lockouts.RecordFailure("locked", start, longLocks);
        }

        _time.Advance(TimeSpan.FromMinutes(35));
        for (var i = 0; i < 2; i++)
        {
            _lockouts.RecordFailure("recent", _time.GetUtcNow(), longLocks);
        }

        _time.Advance(TimeSpan.FromMinutes(5));
        var now = _time.GetUtcNow();
        Assert.Equal(1, _lockouts.Prune(now, forgetAfter: TimeSpan.FromMinutes(30)));

        Assert.Equal(start + TimeSpan.FromHours(1), _lockouts.LockedUntil("locked", now));
        Assert.Null(_lockouts.RecordFailure("old", now, longLocks));                           // counts from 1 again
        Assert.Equal(now + TimeSpan.FromHours(1), _lockouts.RecordFailure("recent", now, longLocks)); // its 3rd failure
    }

    [Fact]
    public void A_lock_survives_reopening_the_database()
    {
        FailTimes("alice", 3);
        var reopened = new LockoutStore(ParleyDatabase.Open(_db.DataDirectory));
        Assert.NotNull(reopened.LockedUntil("alice", _time.GetUtcNow()));
    }

    private void FailTimes(string id, int count)
    {
        for (var i = 0; i < count; i++)
        {
            _lockouts.RecordFailure(id, _time.GetUtcNow(), Policy);
        }
    }
}
