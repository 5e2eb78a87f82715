namespace Parley.Protocol.Messages;

// End-to-end keys (issue #5; docs/PROTOCOL.md §12). The server keeps each user's public identity keys and their
// password-wrapped backup, and hands them out; it never holds a private key it can use.

/// <summary>
/// Client → server: publish my identity keys (a new pair becomes my current one) with <c>Signature</c>, my own
/// signature over them (PROTOCOL.md §12.1), and the <c>Backup</c> of their private halves. Answered by
/// <see cref="KeysOk"/> or ERROR <c>KEYS_INVALID</c> / <c>TOO_MANY_KEYS</c>.
/// </summary>
public sealed record KeysPut(string AgreeKey, string SignKey, string Signature, KeyBackupInfo Backup) : ParleyMessage;

/// <summary>Server → client: the keys of <see cref="KeysPut"/> are stored and current.</summary>
public sealed record KeysOk(string Fingerprint) : ParleyMessage;

/// <summary>Client → server: the identity keys of <c>ClientId</c> (my own keys come with my backup).</summary>
public sealed record KeysGet(string ClientId) : ParleyMessage;

/// <summary>
/// Server → client: every identity key <c>ClientId</c> has published, oldest first, so old messages stay verifiable,
/// and which is <c>Current</c> (new messages are encrypted to it); none for an unknown ID or a user with no keys yet.
/// <c>Backup</c> only for one's own ID. <c>ClientId</c> is the server's spelling when the user exists (<c>Known</c>),
/// else the ID as asked.
/// </summary>
public sealed record Keys(string ClientId, PublishedKey[] Published, string? Current = null, KeyBackupInfo? Backup = null, bool Known = false)
    : ParleyMessage;

/// <summary>One identity key as published: the two points, the owner's self-signature, and when the server stored it (Unix ms).</summary>
public sealed record PublishedKey(string Fingerprint, string AgreeKey, string SignKey, string Signature, long PublishedAt);

/// <summary>A wrapped private key (PROTOCOL.md §12.2): the key it holds, the PBKDF2 salt and count, and the AES-GCM box.</summary>
public sealed record KeyBackupInfo(string Fingerprint, string Salt, int Iterations, string Sealed);

/// <summary>
/// Server → every other online client when <c>ClientId</c> replaced their current identity key with
/// <c>Fingerprint</c> (not at their first publication, which no one can have cached): a client forgets the keys it
/// holds for them, so its next message is checked against the new key (and held, with a warning) rather than sealed
/// to a key its owner no longer has.
/// </summary>
public sealed record KeysChanged(string ClientId, string Fingerprint) : ParleyMessage;
