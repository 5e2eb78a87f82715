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
    public void A_sign_up_creates_the_account_with_its_verifier()
    {
        var verifier = TempDatabase.NewVerifier();
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, invite: null, _time.GetUtcNow()));

        var found = _users.Find("alice");
        Assert.NotNull(found);
        Assert.Equal("alice", found.ClientId);
        Assert.Equal(verifier.StoredKey, found.Verifier.StoredKey);
        Assert.Equal(verifier.ServerKey, found.Verifier.ServerKey);
        Assert.Equal(verifier.Salt, found.Verifier.Salt);
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
    public void Setting_a_verifier_replaces_it_and_raises_the_generation()
    {
        _users.SignUp("Alice", TempDatabase.NewVerifier(), null, _time.GetUtcNow());
        var created = _users.Find("alice")!.Generation;
        var second = TempDatabase.NewVerifier();
        var g1 = _users.SetVerifier("alice", second);
        var found = _users.Find("alice");
        Assert.NotNull(found);
        Assert.Equal(g1, found.Generation);
        Assert.True(g1 > created);
        Assert.Equal(second.StoredKey, found.Verifier.StoredKey);

        var g2 = _users.SetVerifier("ALICE", TempDatabase.NewVerifier());
        Assert.True(g2 > g1);
        Assert.Equal(g2, _users.Generations(["alice", "nobody"])["ALICE"]);
        Assert.DoesNotContain("nobody", _users.Generations(["alice", "nobody"]).Keys);
    }

    [Fact]
    public void An_ID_removed_and_created_again_gets_a_higher_generation_than_before()
    {
        // The server compares generations to end stale connections; a re-created account must not look like the old one.
        _users.SignUp("alice", TempDatabase.NewVerifier(), null, _time.GetUtcNow());
        _users.SetVerifier("alice", TempDatabase.NewVerifier());
        var before = _users.Find("alice")!.Generation;
        Assert.True(_users.Remove("alice"));
        _users.SignUp("alice", TempDatabase.NewVerifier(), null, _time.GetUtcNow());
        Assert.True(_users.Find("alice")!.Generation > before);
    }

    [Fact]
    public void Setting_the_verifier_of_an_unknown_id_changes_nothing() =>
        Assert.Null(_users.SetVerifier("nobody", TempDatabase.NewVerifier()));

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
