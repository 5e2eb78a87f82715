namespace Parley.Protocol.Messages;

// Seed 000: terminals look each other up through the server, then talk over a direct TCP link while the server is
// idle (issue #6; docs/PROTOCOL.md §13). LISTEN and LOOKUP travel on the protected link to the server; the CONNECT
// messages and TEXT travel between the two terminals.

/// <summary>Client → server: "I accept direct calls on TCP <c>Port</c>" (0: I do not). The address is the one the server sees.</summary>
public sealed record Listen(int Port) : ParleyMessage;

/// <summary>Seed 000's Lookup Request. Client → server: where can I reach <c>Lookup</c>?</summary>
public sealed record LookupRequest(string Lookup) : ParleyMessage;

/// <summary>
/// Seed 000's Lookup Reply. <c>Status</c> is <see cref="LookupStatus"/>: SUCCESS with the user's ID, the address they
/// logged on from, the port they listen on and their current identity key; or NOTFOUND with the fields empty.
/// </summary>
public sealed record LookupReply(
    string Status, string UserId = "", string Address = "", int Port = 0, string AgreeKey = "", string SignKey = "", string Fingerprint = "")
    : ParleyMessage;

/// <summary>Values of <see cref="LookupReply.Status"/> (seed 000's words).</summary>
public static class LookupStatus
{
    public const string Success = "SUCCESS";
    public const string NotFound = "NOTFOUND";
}

/// <summary>
/// Seed 000's Connect Request, initiator → destination terminal, the first frame on the direct link: the
/// initiator's ID, a fresh ephemeral P-256 key and a 32-byte nonce (base64).
/// </summary>
public sealed record ConnectRequest(string Initiator, string Ephemeral, string Nonce) : ParleyMessage;

/// <summary>
/// Destination → initiator, once the initiator's address checked out: the responder's ID, ephemeral key and nonce,
/// and its identity signature over the handshake so far (docs/PROTOCOL.md §13.3).
/// </summary>
public sealed record ConnectChallenge(string Responder, string Ephemeral, string Nonce, string Signature) : ParleyMessage;

/// <summary>Initiator → destination: the initiator's identity signature over the whole handshake.</summary>
public sealed record ConnectProof(string Signature) : ParleyMessage;

/// <summary>Seed 000's Connect Reply: "accepted", or "refused" with a <c>Reason</c> (<see cref="ConnectRefusals"/>).</summary>
public sealed record ConnectReply(string Status, string? Reason = null) : ParleyMessage;

/// <summary>Values of <see cref="ConnectReply.Status"/> and <see cref="ConnectReply.Reason"/>.</summary>
public static class ConnectRefusals
{
    public const string Accepted = "accepted";
    public const string Refused = "refused";

    /// <summary>The destination is already in a direct chat.</summary>
    public const string Busy = "busy";

    /// <summary>The server does not know the initiator as logged on (NOTFOUND).</summary>
    public const string NotLoggedOn = "not logged on";

    /// <summary>The connection does not come from the address the initiator logged on from (the seed's check).</summary>
    public const string AddressMismatch = "address mismatch";

    /// <summary>The initiator's signature does not verify with its identity key, or the key is not one the destination trusts.</summary>
    public const string KeyProofFailed = "key proof failed";

    /// <summary>The initiator's current key is not the one the destination's user trusts for them (TOFU, issue #5).</summary>
    public const string KeyNotTrusted = "key not trusted";

    /// <summary>The destination could not ask its server about the initiator (its link is down, or the server did not answer).</summary>
    public const string LookupFailed = "lookup failed";

    /// <summary>The handshake was malformed or too slow.</summary>
    public const string BadHandshake = "bad handshake";
}

/// <summary>One chat line on the direct link, sealed (seed 000: "input() send() and recv() print()").</summary>
public sealed record DirectText(string Message) : ParleyMessage;
