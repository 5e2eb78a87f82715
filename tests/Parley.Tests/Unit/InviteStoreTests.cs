using System.Text;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

public sealed class InviteStoreTests : IDisposable
{
    private readonly TempDatabase _db = new();
    private readonly ManualTimeProvider _time = new();
    private readonly UserStore _users;
    private readonly InviteStore _invites;

    public InviteStoreTests()
    {
        _users = new UserStore(_db.Database);
        _invites = new InviteStore(_db.Database);
    }

    public void Dispose() => _db.Dispose();

    private DateTimeOffset Now => _time.GetUtcNow();

    private string NewCode(int uses) => _invites.Create(uses, Now + TimeSpan.FromDays(7), Now);

    private SignUpStatus SignUp(string id, string? invite) => _users.SignUp(id, TempDatabase.NewVerifier(), invite, Now);

    [Fact]
    public void A_code_allows_exactly_its_number_of_sign_ups()
    {
        var code = NewCode(uses: 2);
        Assert.Equal(SignUpStatus.Created, SignUp("alice", code));
        Assert.True(_invites.IsValid(code, Now));
        Assert.Equal(SignUpStatus.Created, SignUp("bob", code));
        Assert.False(_invites.IsValid(code, Now));
        Assert.Equal(SignUpStatus.InviteInvalid, SignUp("carol", code));
        Assert.Null(_users.Find("carol"));
    }

    [Fact]
    public void Checking_a_code_does_not_spend_it()
    {
        var code = NewCode(uses: 1);
        Assert.True(_invites.IsValid(code, Now));
        Assert.True(_invites.IsValid(code, Now));
        Assert.Equal(SignUpStatus.Created, SignUp("alice", code));
    }

    [Fact]
    public void An_expired_code_is_refused()
    {
        var code = _invites.Create(5, Now + TimeSpan.FromDays(1), Now);
        _time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));
        Assert.True(_invites.IsValid(code, Now));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(_invites.IsValid(code, Now));
        Assert.Equal(SignUpStatus.InviteInvalid, SignUp("alice", code));
        Assert.Null(_users.Find("alice"));
    }

    [Fact]
    public void An_unknown_code_is_refused_and_creates_no_account()
    {
        NewCode(uses: 1);
        Assert.False(_invites.IsValid("AAAAAA-AAAAAA-AAAAAA-AAAAAA", Now));
        Assert.Equal(SignUpStatus.InviteInvalid, SignUp("alice", "AAAAAA-AAAAAA-AAAAAA-AAAAAA"));
        Assert.Null(_users.Find("alice"));
    }

    [Fact]
    public void Codes_are_accepted_regardless_of_letter_case_dashes_and_spaces()
    {
        var code = NewCode(uses: 3);
        Assert.True(_invites.IsValid(code.ToLowerInvariant(), Now));
        Assert.True(_invites.IsValid(code.Replace("-", "", StringComparison.Ordinal), Now));
        Assert.True(_invites.IsValid(code.Replace('-', ' '), Now));
        Assert.Equal(SignUpStatus.Created, SignUp("alice", code.ToLowerInvariant().Replace("-", "", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_sign_up_refused_because_the_id_is_taken_does_not_spend_the_invite()
    {
        Assert.Equal(SignUpStatus.Created, SignUp("alice", invite: null));
        var code = NewCode(uses: 1);
        Assert.Equal(SignUpStatus.Taken, SignUp("ALICE", code));
        Assert.True(_invites.IsValid(code, Now));
        Assert.Equal(SignUpStatus.Created, SignUp("bob", code));
    }

    [Fact]
    public void A_retransmitted_sign_up_does_not_spend_a_second_use()
    {
        var code = NewCode(uses: 2);
        var verifier = TempDatabase.NewVerifier();
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, code, Now));
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, code, Now));
        Assert.Equal(SignUpStatus.Created, SignUp("bob", code));
        Assert.False(_invites.IsValid(code, Now));
    }

    // When the SIGNUP_RESULT for a single-use code is lost, the client's retransmission of the very same SIGNUP must
    // still be answered "created", although the code is now spent.
    [Fact]
    public void A_retransmitted_sign_up_with_a_single_use_code_counts_as_created()
    {
        var code = NewCode(uses: 1);
        var verifier = TempDatabase.NewVerifier();
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, code, Now));
        Assert.Equal(SignUpStatus.Created, _users.SignUp("alice", verifier, code, Now));
    }

    [Fact]
    public void Codes_are_different_each_time() => Assert.NotEqual(NewCode(1), NewCode(1));

    [Fact]
    public void A_code_allows_at_least_one_use() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _invites.Create(0, Now + TimeSpan.FromDays(1), Now));

    [Fact]
    public void The_database_holds_no_code_only_its_hash()
    {
        var code = NewCode(uses: 1);
        var forms = new[] { code, code.Replace("-", "", StringComparison.Ordinal), code.ToLowerInvariant() };

        // parley.db and its -wal file, as they are on disk.
        foreach (var file in Directory.GetFiles(_db.DataDirectory))
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }

            foreach (var form in forms)
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(form)) < 0, $"{Path.GetFileName(file)} contains the invite code");
                Assert.True(bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(form)) < 0, $"{Path.GetFileName(file)} contains the invite code");
            }
        }

        Assert.True(_invites.IsValid(code, Now)); // and the code still works from the hash
    }
}
