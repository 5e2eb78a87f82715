namespace Parley.Protocol.Messages;

// Connection phase, seed 001 "Connection to the Server" steps 1–6. The seed's A3 becomes SCRAM-SHA-256
// (RFC 5802/7677) and its A8 an HKDF over an ephemeral ECDH secret and the SCRAM ClientKey; docs/PROTOCOL.md §3.

/// <summary>UDP, client → server. Seed: HELLO(Client-ID-A). Adds the SCRAM client nonce and an ephemeral P-256 key.</summary>
public sealed record Hello(string ClientId, string Nonce, string EphemeralKey) : ParleyMessage;

/// <summary>UDP, server → client. Seed: CHALLENGE(rand). <c>Rand</c> is the SCRAM combined nonce, fresh every time.</summary>
public sealed record Challenge(string Rand, string Salt, int Iterations, string EphemeralKey) : ParleyMessage;

/// <summary>UDP, client → server. Seed: RESPONSE(client-ID, Res). <c>Proof</c> is the SCRAM ClientProof.</summary>
public sealed record Response(string ClientId, string Rand, string Proof) : ParleyMessage;

/// <summary>
/// UDP, server → client. Seed: AUTH_SUCCESS(rand_cookie, port_number) "encrypted by CK-A": <c>Sealed</c> is the
/// AES-256-GCM box of <see cref="AuthTicket"/>. <c>ServerSignature</c> lets the client refuse a false server.
/// </summary>
public sealed record AuthSuccess(string ServerSignature, string Sealed) : ParleyMessage;

/// <summary>The plaintext inside <see cref="AuthSuccess.Sealed"/>.</summary>
public sealed record AuthTicket(string RandCookie, int PortNumber);

/// <summary>
/// UDP, server → client. The same text whether the ID is unknown or the password wrong. <c>RetryAfterSeconds</c> is
/// set when the ID is locked after too many failures (issue #3): no password is tried until then, right or wrong.
/// Unknown IDs lock the same way, so a lock does not reveal that an ID exists.
/// </summary>
public sealed record AuthFail(string Text, int? RetryAfterSeconds = null) : ParleyMessage;

/// <summary>TCP, client → server, the only plaintext frame a client sends. Seed: CONNECT(rand_cookie).</summary>
public sealed record Connect(string ClientId, string RandCookie) : ParleyMessage;

/// <summary>
/// TCP, server → client, the first protected record. Carries the limits the server enforces, and what a new
/// password's verifier must use (<see cref="Passwd"/>), and (issue #4, seed 002) the unread DMs waiting, per sender.
/// </summary>
public sealed record Connected(string ClientId, int ActivityTimeoutSeconds, int KeepAliveSeconds, int MaxMessageBytes,
    int ScramIterations = 0, int MinPasswordLength = 0, UnreadCount[]? Unread = null) : ParleyMessage;

/// <summary>TCP, client → server. Ends the connection cleanly (seed: "Log off"); the server then closes.</summary>
public sealed record LogOff : ParleyMessage;

/// <summary>TCP keep-alive; the server answers <see cref="Pong"/>. Does not count as user activity.</summary>
public sealed record Ping : ParleyMessage;

/// <summary>Answer to <see cref="Ping"/>.</summary>
public sealed record Pong : ParleyMessage;

/// <summary>Any direction. <c>Code</c> is stable (see <see cref="ErrorCodes"/>); <c>Text</c> is for people.</summary>
public sealed record Error(string Code, string Text) : ParleyMessage;

/// <summary>
/// Server → every logged-on client (issue #7): a notice from the server's operator (<c>broadcast</c> at the console
/// or <c>parley admin</c>), with the time it was sent (Unix milliseconds). Not stored; clients that are offline miss it.
/// </summary>
public sealed record Notice(string Text, long SentAt) : ParleyMessage;
