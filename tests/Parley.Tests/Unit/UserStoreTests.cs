using Parley.Protocol.Security;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

public sealed class UserStoreTests : IDisposable
{
    private readonly TempDatabase _db = new();
    private readonly ManualTimeProvider _time = new();
    private readonly UserStore _users;

    public UserStoreTests() => _users = new UserStore(_db.Database);

    public void Dispose() => _db.Dispose();

    [Fact]
    public void A_sign_up_creates_the_account_with_its_verifier_and_generation_zero()
    {
        var verifier = TempDatabase.NewVerifier();
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, invite: null, _time.GetUtcNow()));

        var found = _users.Find("alice");
        Assert.NotNull(found);
        Assert.Equal("alice", found.ClientId);
        Assert.Equal(verifier.StoredKey, found.Verifier.StoredKey);
        Assert.Equal(verifier.ServerKey, found.Verifier.ServerKey);
        Assert.Equal(verifier.Salt, found.Verifier.Salt);
        Assert.Equal(0, found.Generation);
        Assert.Equal(_time.GetUtcNow(), found.CreatedAt);
    }

    [Fact]
    public void An_id_taken_in_another_letter_case_is_refused_and_the_first_account_is_kept()
    {
        var first = TempDatabase.NewVerifier();
        Assert.Equal(SignUpStatus.Created, _users.SignUp("Alice", first, null, _time.GetUtcNow()));
        Assert.Equal(SignUpStatus.Taken, _users.SignUp("alice", TempDatabase.NewVerifier(), null, _time.GetUtcNow()));

        var found = _users.Find("alice");
        Assert.NotNull(found);
        Assert.Equal("Alice", found.ClientId);
        Assert.Equal(first.StoredKey, found.Verifier.StoredKey);
        Assert.Single(_users.List());
    }

    [Fact]
    public void A_retransmitted_sign_up_with_the_same_verifier_counts_as_created()
    {
        var verifier = TempDatabase.NewVerifier();
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, null, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, null, _time.GetUtcNow()));
        Assert.Single(_users.List());
    }

    [Fact]
    public void Setting_a_verifier_replaces_it_and_bumps_the_generation()
    {
        _users.SignUp("Alice", TempDatabase.NewVerifier(), null, _time.GetUtcNow());
        var second = TempDatabase.NewVerifier();
        Assert.True(_users.SetVerifier("alice", second));
        var found = _users.Find("alice");
        Assert.NotNull(found);
        Assert.Equal(1, found.Generation);
        Assert.Equal(second.StoredKey, found.Verifier.StoredKey);

        Assert.True(_users.SetVerifier("ALICE", TempDatabase.NewVerifier()));
        Assert.Equal(2, _users.Find("alice")!.Generation);
        Assert.Equal(2, _users.Generations(["alice", "nobody"])["ALICE"]);
        Assert.DoesNotContain("nobody", _users.Generations(["alice", "nobody"]).Keys);
    }

    [Fact]
    public void Setting_the_verifier_of_an_unknown_id_changes_nothing() =>
        Assert.False(_users.SetVerifier("nobody", TempDatabase.NewVerifier()));

    [Fact]
    public void The_version_changes_when_a_user_is_added_changed_or_removed()
    {
        var v0 = _users.Version();
        Assert.Equal(v0, _users.Version());

        _users.SignUp("alice", TempDatabase.NewVerifier(), null, _time.GetUtcNow());
        var v1 = _users.Version();
        Assert.NotEqual(v0, v1);

        _users.SetVerifier("alice", TempDatabase.NewVerifier());
        var v2 = _users.Version();
        Assert.NotEqual(v1, v2);
        Assert.NotEqual(v0, v2);

        Assert.True(_users.Remove("ALICE"));
        var v3 = _users.Version();
        Assert.NotEqual(v2, v3);
        Assert.NotEqual(v1, v3);
        Assert.Null(_users.Find("alice"));
    }

    [Fact]
    public void Another_process_sees_the_version_change_when_the_admin_removes_a_user()
    {
        _users.SignUp("alice", TempDatabase.NewVerifier(), null, _time.GetUtcNow());
        var before = _users.Version();
        var admin = new UserStore(ParleyDatabase.Open(_db.DataDirectory));
        Assert.True(admin.Remove("alice"));
        Assert.NotEqual(before, _users.Version());
        Assert.Null(_users.Find("alice"));
    }

    [Fact]
    public void Removing_an_unknown_id_reports_false() => Assert.False(_users.Remove("nobody"));

    [Fact]
    public void The_directory_is_sorted_ignoring_letter_case_and_can_be_cut()
    {
        foreach (var id in new[] { "carol", "Bob", "alice" })
        {
            _users.SignUp(id, TempDatabase.NewVerifier(), null, _time.GetUtcNow());
        }

        Assert.Equal(["alice", "Bob", "carol"], _users.List().Select(u => u.ClientId));
        Assert.Equal(["alice", "Bob"], _users.List(limit: 2).Select(u => u.ClientId));
    }

    [Fact]
    public void The_most_common_iteration_count_is_null_without_users()
    {
        Assert.Null(_users.MostCommonIterations());
    }

    [Fact]
    public void The_most_common_iteration_count_is_the_one_most_verifiers_have()
    {
        _users.SignUp("a1", TempDatabase.NewVerifier(Scram.DefaultIterations), null, _time.GetUtcNow());
        _users.SignUp("a2", TempDatabase.NewVerifier(Scram.MinimumIterations), null, _time.GetUtcNow());
        _users.SignUp("a3", TempDatabase.NewVerifier(Scram.MinimumIterations), null, _time.GetUtcNow());
        Assert.Equal(Scram.MinimumIterations, _users.MostCommonIterations());

        _users.SignUp("a4", TempDatabase.NewVerifier(Scram.DefaultIterations), null, _time.GetUtcNow());
        Assert.Equal(Scram.DefaultIterations, _users.MostCommonIterations()); // a tie goes to the larger count
    }
}
