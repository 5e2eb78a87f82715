using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;
using Parley.Server.Connections;
using Parley.Storage;

namespace Parley.Server.Accounts;

/// <summary>
/// The public-key directory (issue #5; docs/PROTOCOL.md §12.1–12.2): KEYS_PUT publishes a user's identity keys and
/// their password-wrapped backup, KEYS_GET hands them out. The server checks that what it stores is well formed and
/// self-signed, so a buggy client cannot publish garbage, but it never holds a key it can use: the private halves
/// arrive sealed under a key derived from a password it never sees. Clients trust a key only on first use or after
/// /verify; the server's word is not enough (docs/SECURITY.md).
/// </summary>
internal sealed class KeyDirectory(ParleyServerOptions options, KeyStore keys, Routing.ChatRouter router, TimeProvider time, ILogger<KeyDirectory> logger)
{
    public ParleyMessage Publish(ClientConnection client, KeysPut put)
    {
        using var key = IdentityPublicKey.TryParse(put.AgreeKey, put.SignKey);
        if (key is null || !key.VerifyBundle(client.ClientId, put.Signature))
        {
            return new Error(ErrorCodes.KeysInvalid, "The identity keys are not two P-256 points signed by their owner; nothing was stored.");
        }

        if (ParseBackup(put.Backup, key.Fingerprint) is not { } backup)
        {
            return new Error(ErrorCodes.KeysInvalid, BackupRule);
        }

        var stored = new StoredIdentityKey(key.Fingerprint, key.AgreeKey, key.SignKey, WireBase64.DecodeOrEmpty(put.Signature), time.GetUtcNow());
        var before = keys.Get(client.ClientId);
        switch (keys.Publish(client.ClientId, stored, backup, options.KeysPerUser))
        {
            case PublishStatus.Published:
                logger.LogInformation("{ClientId} published identity key {Fingerprint}", client.ClientId, key.Fingerprint);
                if (before is { Keys.Count: > 0 } && before.Current != key.Fingerprint)
                {
                    // A replaced key (or a re-created ID's first): whoever cached the old one must not seal to it.
                    AnnounceChange(client, key.Fingerprint);
                }

                return new KeysOk(key.Fingerprint);
            case PublishStatus.Retired:
                return new Error(ErrorCodes.KeysInvalid, "That key was replaced by a newer one and cannot be made current again; publish a new key.");
            case PublishStatus.TooManyKeys:
                return new Error(ErrorCodes.TooManyKeys, $"You have published {options.KeysPerUser} identity keys, the server's limit; its administrator can raise --max-keys-per-user.");
            default:
                return new Error(ErrorCodes.AccountRemoved, "Your account no longer exists.");
        }
    }

    /// <summary>Every key <paramref name="clientId"/> published, and the backup when it is the asker's own.</summary>
    public Keys Get(ClientConnection client, string clientId)
    {
        if (!ClientIds.IsValid(clientId) || keys.Get(clientId) is not { } found)
        {
            return new Keys(clientId, []);
        }

        var own = found.Known && ClientIds.Comparer.Equals(found.ClientId, client.ClientId);
        var published = found.Keys.Select(k => new PublishedKey(k.Fingerprint, Convert.ToBase64String(k.AgreeKey), Convert.ToBase64String(k.SignKey),
            Convert.ToBase64String(k.Signature), k.PublishedAt.ToUnixTimeMilliseconds())).ToArray();
        var backup = own && found.Backup is { } b
            ? new KeyBackupInfo(b.Fingerprint, Convert.ToBase64String(b.Salt), b.Iterations, Convert.ToBase64String(b.Box))
            : null;
        return new Keys(found.ClientId, published, found.Current, backup, Known: found.Known);
    }

    /// <summary>
    /// Seed 000's Lookup (issue #6): where <paramref name="clientId"/> takes direct calls (the address they logged on
    /// from and the port they LISTEN on) and their current identity key. NOTFOUND unless they are online, listening
    /// and have a key; the requester is logged on, or it could not ask on this link.
    /// </summary>
    public LookupReply Lookup(string clientId)
    {
        if (!ClientIds.IsValid(clientId) || router.TryGetOnline(clientId) is not { ListenPort: > 0, RemoteAddress: { } address } peer
            || keys.Get(peer.ClientId) is not { Current: { } current } found || found.Keys.FirstOrDefault(k => k.Fingerprint == current) is not { } key)
        {
            return new LookupReply(LookupStatus.NotFound);
        }

        return new LookupReply(LookupStatus.Success, peer.ClientId, address.ToString(), peer.ListenPort,
            Convert.ToBase64String(key.AgreeKey), Convert.ToBase64String(key.SignKey), key.Fingerprint);
    }

    /// <summary>
    /// KEYS_CHANGED to everyone else online. O(online clients), but only when a key is replaced (a password reset),
    /// not at a user's first publication; TryEnqueue never waits on a slow client.
    /// </summary>
    private void AnnounceChange(ClientConnection owner, string fingerprint)
    {
        var notice = new KeysChanged(owner.ClientId, fingerprint);
        foreach (var other in router.Snapshot())
        {
            if (!ReferenceEquals(other, owner))
            {
                other.TryEnqueue(notice);
            }
        }
    }

    public static string BackupRule =>
        $"The key backup must name the key it holds and carry a {KeyBackup.SaltBytes}-byte salt, {KeyBackup.MinimumIterations} to " +
        $"{KeyBackup.MaximumIterations} PBKDF2 iterations and a {KeyBackup.BoxBytes}-byte box; nothing was stored.";

    /// <summary>A well-formed backup of the key <paramref name="fingerprint"/> (any key when null), or null.</summary>
    public static StoredBackup? ParseBackup(KeyBackupInfo? info, string? fingerprint)
    {
        if (info is null || (fingerprint is not null && info.Fingerprint != fingerprint) || info.Fingerprint.Length != 32
            || info.Iterations is < KeyBackup.MinimumIterations or > KeyBackup.MaximumIterations)
        {
            return null;
        }

        var salt = WireBase64.DecodeOrEmpty(info.Salt);
        var box = WireBase64.DecodeOrEmpty(info.Sealed);
        return salt.Length == KeyBackup.SaltBytes && box.Length == KeyBackup.BoxBytes
            ? new StoredBackup(info.Fingerprint, salt, info.Iterations, box)
            : null;
    }
}
