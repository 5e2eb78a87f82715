namespace Parley.Protocol.Messages;

// Accounts (issue #3; seeds 002 "!signup", "!LIST" and 003's new-user flow). Sign-up travels over UDP like the rest of
// the connection phase; the verifiers inside SIGNUP are sealed to the server's sign-up key. docs/PROTOCOL.md §10.

/// <summary>
/// UDP, client → server: "how do I sign up here?". <c>Pad</c> makes the datagram large enough that the answer stays
/// within the server's 3× anti-amplification bound (a SIGNUP_INFO is about 250 bytes).
/// </summary>
public sealed record SignUpHello(string Pad) : ParleyMessage;

/// <summary>
/// UDP, server → client. <c>Policy</c> is a <see cref="SignUpPolicies"/> value; <c>ServerKey</c> is the server's
/// long-term P-256 sign-up key (uncompressed point, base64); new verifiers must use exactly <c>Iterations</c>.
/// </summary>
public sealed record SignUpInfo(string Policy, string ServerKey, int Iterations, int MinPasswordLength) : ParleyMessage;

/// <summary>
/// UDP, client → server. <c>Sealed</c> is a <see cref="SignUpForm"/> sealed to <see cref="SignUpInfo.ServerKey"/>
/// with the one-time <c>EphemeralKey</c> (see <c>SignUpBox</c>).
/// </summary>
public sealed record SignUp(string EphemeralKey, string Sealed) : ParleyMessage;

/// <summary>UDP, server → client: a <see cref="SignUpOutcome"/> sealed under the same one-time key as the request.</summary>
public sealed record SignUpResult(string Sealed) : ParleyMessage;

/// <summary>
/// The plaintext inside <see cref="SignUp.Sealed"/>. With <c>CheckOnly</c> the server only says whether the ID
/// could be signed up for (003's "queries the server on whether user already exists"); otherwise the SCRAM verifier
/// fields are required. <c>Invite</c> is needed when the policy is <see cref="SignUpPolicies.Invite"/>.
/// </summary>
public sealed record SignUpForm(
    string ClientId, bool CheckOnly, string? Invite = null,
    string? Salt = null, int? Iterations = null, string? StoredKey = null, string? ServerKey = null);

/// <summary>The plaintext inside <see cref="SignUpResult.Sealed"/>. <c>Code</c> is a <see cref="SignUpCodes"/> value.</summary>
public sealed record SignUpOutcome(string ClientId, string Code, string Text);

/// <summary>Values of <see cref="SignUpInfo.Policy"/>.</summary>
public static class SignUpPolicies
{
    /// <summary>Anyone who can reach the server may create an account (seeds 002 and 003).</summary>
    public const string Open = "open";

    /// <summary>A sign-up needs an invite code issued with <c>parley user invite</c>.</summary>
    public const string Invite = "invite";

    /// <summary>Only the admin creates accounts (<c>parley user add</c>), as in seed 001.</summary>
    public const string Closed = "closed";

    public static bool IsKnown(string policy) => policy is Open or Invite or Closed;
}

/// <summary>Values of <see cref="SignUpOutcome.Code"/>.</summary>
public static class SignUpCodes
{
    /// <summary>The account was created (or already existed with exactly this verifier: a retransmission).</summary>
    public const string Created = "CREATED";

    /// <summary>Answer to a check: the ID is free and follows the rules.</summary>
    public const string Available = "AVAILABLE";

    /// <summary>The ID, in some letter case, belongs to someone.</summary>
    public const string Taken = "ID_TAKEN";

    /// <summary>The ID breaks a rule; the text names it.</summary>
    public const string IdNotAllowed = "ID_NOT_ALLOWED";

    /// <summary>The invite code is missing, unknown, used up or expired.</summary>
    public const string InviteInvalid = "INVITE_INVALID";

    /// <summary>The verifier fields are missing or malformed, or use other than the announced iterations.</summary>
    public const string BadVerifier = "BAD_VERIFIER";
}

/// <summary>TCP, client → server: the user directory (002 "!LIST"). <c>OnlineOnly</c> lists only who is online (003's DM list).</summary>
public sealed record ListReq(bool OnlineOnly = false) : ParleyMessage;

/// <summary>TCP, server → client: users in ID order with their presence. <c>Truncated</c> when the server's bound cut the list.</summary>
public sealed record ListResp(IReadOnlyList<DirectoryEntry> Users, bool Truncated = false) : ParleyMessage;

/// <summary>One line of the directory.</summary>
public sealed record DirectoryEntry(string ClientId, bool Online);

/// <summary>
/// TCP, client → server: change my password (<c>/passwd</c>). <c>Proof</c> proves the old password:
/// ClientKey_old XOR HMAC(StoredKey_old, "parley v1 PASSWD" ‖ new salt ‖ new iterations (u32 BE) ‖ new StoredKey ‖ new ServerKey), so it is
/// bound to this new verifier and is useless for anything else. The new verifier must use the announced iterations.
/// <c>Backup</c> (issue #5) is the identity key re-wrapped under the new password, stored in the same transaction.
/// </summary>
public sealed record Passwd(string Proof, string Salt, int Iterations, string StoredKey, string ServerKey, KeyBackupInfo? Backup = null) : ParleyMessage;

/// <summary>TCP, server → client: the new password is stored; the next log-on needs it.</summary>
public sealed record PasswdOk : ParleyMessage;
