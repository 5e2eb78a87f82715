using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Client.EndToEnd;

/// <summary>How an incoming envelope fared.</summary>
public enum OpenStatus
{
    Ok,

    /// <summary>Plain text where an envelope belongs: the server (or an old client) wrote it, so it proves nothing.</summary>
    NotEncrypted,

    /// <summary>Altered, re-addressed, replayed into another conversation, or signed by no key of the claimed sender.</summary>
    NotAuthentic,

    /// <summary>Authentic, but encrypted to an identity key of ours that was replaced (a password reset), so unreadable.</summary>
    OtherKey,
}

/// <summary>An opened message: its text when <see cref="Status"/> is Ok, its envelope's ID, and whether the signing key is one the user trusts.</summary>
public sealed record Opened(string? Text, OpenStatus Status, string? MessageId = null, bool KeyTrusted = true);

/// <summary>
/// End-to-end encryption for one logged-on user (issue #5; docs/SECURITY.md): their identity key, unlocked from the
/// server's backup with the password (or made and published at the first log-on), the contacts' keys fetched from
/// the directory and judged against the <see cref="ContactBook"/>, and sealing and opening of CHAT and DM bodies.
/// </summary>
public sealed class EndToEndSession : IDisposable
{
    private ParleyConnection _connection;
    private readonly ContactBook _book;
    private readonly IdentityKey _key;
    private readonly Dictionary<string, IdentityPublicKey> _ownKeys;
    private readonly Dictionary<string, Contact> _contacts = new(StringComparer.OrdinalIgnoreCase);

    // The terminal's loop and a direct call's handshake (issue #6), which runs beside it, both use the contacts and
    // the book: one at a time.
    private readonly SemaphoreSlim _gate = new(1, 1);

    private EndToEndSession(ParleyConnection connection, ContactBook book, IdentityKey key, Dictionary<string, IdentityPublicKey> ownKeys, string? notice)
    {
        _connection = connection;
        _book = book;
        _key = key;
        _ownKeys = ownKeys;
        Notice = notice;
    }

    public string ClientId => _connection.ClientId;

    public IdentityPublicKey PublicKey => _key.Public;

    /// <summary>The private identity key, for the direct link's handshake signatures (issue #6).</summary>
    internal IdentityKey Key => _key;

    /// <summary>What the user must be told about their own keys at log-on (they were replaced), or null.</summary>
    public string? Notice { get; private set; }

    /// <summary>Why the contact book lives only in memory (its file could not be written), or null.</summary>
    public string? BookProblem => _book.Problem;

    /// <summary>The key this client holds, for re-wrapping under a new password (<c>/passwd</c>).</summary>
    public KeyBackupInfo WrapKey(string password) => ToWire(KeyBackup.Seal(_key, ClientId, password));

    /// <summary>
    /// Unlocks the user's identity key from their backup, or creates and publishes one when there is none or the
    /// password no longer opens it (an administrator reset the password: the old key, and what was sent to it, is lost).
    /// Costs one PBKDF2 run of at least <see cref="KeyBackup.MinimumIterations"/>, off the caller's thread.
    /// </summary>
    public static async Task<EndToEndSession> StartAsync(ParleyConnection connection, string password, ContactBook book,
        CancellationToken cancellationToken = default)
    {
        var me = connection.ClientId;
        var keys = await connection.GetKeysAsync(me, cancellationToken).ConfigureAwait(false);
        var own = VerifiedKeys(me, keys);
        string? notice = null;
        if (keys.Current is { } current && own.TryGetValue(current, out var currentKey) && keys.Backup is { } backup)
        {
            var opened = await Task.Run(() => KeyBackup.Open(FromWire(backup), me, password, currentKey), cancellationToken).ConfigureAwait(false);
            if (opened is not null)
            {
                book.Accept(me, opened.Public.Fingerprint);
                return new EndToEndSession(connection, book, opened, own, null);
            }

            notice = "Your encryption key backup cannot be opened with this password (was it reset by the administrator?). " +
                "A new key was made: messages sent to your old key cannot be read, and your contacts will be told your key changed.";
        }
        else if (keys.Current is { } listed && !own.ContainsKey(listed))
        {
            // The server names a current key that is missing from its list or whose self-signature fails.
            notice = "The server's record of your current encryption key does not verify (it was altered). " +
                "A new key was made: messages sent to the earlier key cannot be read here, and your contacts will be told the key changed.";
        }
        else if (own.Count > 0)
        {
            // Keys published under this ID before, but no backup: an account re-created under an old ID, or a
            // server that lost or withheld the backup. Either way the user must know their contacts will be warned.
            notice = "The server has earlier encryption keys under your ID but no backup of them (a new account under an old ID, or the server lost it). " +
                "A new key was made: messages sent to the earlier key cannot be read here, and your contacts will be told the key changed.";
        }

        var key = IdentityKey.Create();
        var sealedBackup = await Task.Run(() => KeyBackup.Seal(key, me, password), cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.PublishKeysAsync(new KeysPut(key.Public.AgreeKeyBase64, key.Public.SignKeyBase64, key.SignBundle(me), ToWire(sealedBackup)),
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        own[key.Public.Fingerprint] = key.Public;
        book.Accept(me, key.Public.Fingerprint);
        return new EndToEndSession(connection, book, key, own, notice);
    }

    /// <summary>
    /// Moves the unlocked identity key to <paramref name="connection"/>, the same user's log-on after the link dropped
    /// (docs/PROTOCOL.md §8.2), so no password is needed. Contacts are looked up afresh (a KEYS_CHANGED may have been
    /// missed); then it throws <see cref="ParleyClientException"/> if the server lists another current key (Refused) or cannot say.
    /// </summary>
    public async Task ResumeAsync(ParleyConnection connection, CancellationToken cancellationToken = default)
    {
        if (!ClientIds.Comparer.Equals(connection.ClientId, ClientId))
        {
            throw new InvalidOperationException("A session resumes only for the user it was started for.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var contact in _contacts.Keys.ToList())
            {
                ForgetCore(contact);
            }

            _connection = connection;
            Notice = null; // told at the first log-on
        }
        finally
        {
            _gate.Release();
        }

        var keys = await connection.GetKeysAsync(connection.ClientId, cancellationToken).ConfigureAwait(false);
        if (keys.Current != _key.Public.Fingerprint)
        {
            throw new ParleyClientException(ClientFailure.Refused,
                "your encryption key on the server changed while you were away; type \"Log off\", then \"Log on\" to unlock the current one");
        }
    }

    /// <summary>
    /// A contact's keys and how far they are trusted. Fetched once per log-on, and again when a message names a key
    /// (<paramref name="mustInclude"/>) the cached answer lacks. The first answer for a contact is recorded (TOFU).
    /// </summary>
    public async Task<Contact> ContactAsync(string clientId, string? mustInclude = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ContactCoreAsync(clientId, mustInclude, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Contact> ContactCoreAsync(string clientId, string? mustInclude, CancellationToken cancellationToken)
    {
        if (_contacts.TryGetValue(clientId, out var cached) && (mustInclude is null || cached.Keys.ContainsKey(mustInclude)))
        {
            return cached;
        }

        if (!ClientIds.IsValid(clientId))
        {
            return new Contact(clientId, new Dictionary<string, IdentityPublicKey>(), null, KeyTrust.Unknown, firstUse: false); // no one has that ID
        }

        var answer = await _connection.GetKeysAsync(clientId, cancellationToken).ConfigureAwait(false);

        // The answer matched the request ignoring case; a valid ID is all that may reach the screen from it.
        answer = ClientIds.IsValid(answer.ClientId) ? answer : answer with { ClientId = clientId };
        var keys = VerifiedKeys(answer.ClientId, answer);
        var current = answer.Current is { } fp ? keys.GetValueOrDefault(fp) : null;
        var record = _book.Find(answer.ClientId);
        var firstUse = false;
        KeyTrust trust;
        if (current is null)
        {
            trust = answer.Known ? KeyTrust.NoKey : KeyTrust.Unknown;
        }
        else if (record is null)
        {
            // Trust on first use: the current key only. Older keys listed beside it are not vouched for by anyone.
            _book.Accept(answer.ClientId, current.Fingerprint);
            firstUse = true;
            trust = KeyTrust.Trusted;
        }
        else
        {
            trust = (record.Current ?? record.Accepted.LastOrDefault()) != current.Fingerprint ? KeyTrust.Changed
                : record.Verified == current.Fingerprint ? KeyTrust.Verified
                : KeyTrust.Trusted;
        }

        var contact = new Contact(answer.ClientId, keys, current, trust, firstUse)
        {
            WasVerified = trust == KeyTrust.Changed && record?.Verified is { } verified && verified == (record.Current ?? verified),
        };
        if (current is not null)
        {
            _contacts[clientId] = contact; // a user without keys yet may publish some any moment: ask again next time
        }

        return contact;
    }

    /// <summary>
    /// Drops what this session holds for <paramref name="clientId"/> after KEYS_CHANGED; true if anything was held
    /// (the user has dealt with the contact in this log-on and should hear about it now).
    /// </summary>
    public bool Forget(string clientId)
    {
        _gate.Wait();
        try
        {
            return ForgetCore(clientId);
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool ForgetCore(string clientId)
    {
        if (!_contacts.Remove(clientId, out var contact))
        {
            return false;
        }

        foreach (var key in contact.Keys.Values)
        {
            key.Dispose();
        }

        return true;
    }

    /// <summary>Trusts the contact's current key from now on (<c>/accept</c>), and marks it verified (<c>/verify … yes</c>).</summary>
    public void Accept(Contact contact, bool verified)
    {
        if (contact.Current is not { } current)
        {
            return;
        }

        _gate.Wait();
        try
        {
            _book.Accept(contact.ClientId, current.Fingerprint, verified);
        }
        finally
        {
            _gate.Release();
        }

        contact.Trust = verified ? KeyTrust.Verified : KeyTrust.Trusted;
        contact.WasVerified = false;
    }

    /// <summary>The safety number of this user and <paramref name="contact"/>'s current key (<c>/verify</c>).</summary>
    public string SafetyNumberWith(Contact contact) =>
        SafetyNumber.Compute(ClientId, _key.Public, contact.ClientId, contact.Current ?? throw new InvalidOperationException("The contact has no key."));

    /// <summary>Encrypts <paramref name="text"/> to <paramref name="to"/>'s current key (which the caller has checked is trusted).</summary>
    /// <exception cref="InvalidOperationException">The contact has no key, or <paramref name="conversation"/> is not well formed.</exception>
    public string Seal(Contact to, MessageKind kind, string conversation, string text)
    {
        var context = new MessageContext(kind, ClientId, to.ClientId, conversation);
        return context.IsWellFormed && to.Current is { } key
            ? SealedMessage.Seal(_key, key, context, text)
            : throw new InvalidOperationException($"Cannot seal to {to.ClientId} in that conversation.");
    }

    /// <summary>
    /// Verifies and decrypts a body the server says <paramref name="from"/> sent <paramref name="to"/> in
    /// <paramref name="conversation"/>. Whatever the server changed shows up as a status other than Ok.
    /// </summary>
    public async Task<Opened> OpenAsync(string body, MessageKind kind, string from, string to, string conversation, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await OpenCoreAsync(body, kind, from, to, conversation, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Opened> OpenCoreAsync(string body, MessageKind kind, string from, string to, string conversation, CancellationToken cancellationToken)
    {
        var context = new MessageContext(kind, from, to, conversation);
        if (!context.IsWellFormed)
        {
            return new Opened(null, OpenStatus.NotAuthentic); // no genuine message has such a sender, recipient or session
        }

        if (SealedMessage.TryParse(body) is not { } envelope)
        {
            // A broken envelope is a failed check, not plain text: it claims to be one.
            return new Opened(null, SealedMessage.IsEnvelope(body) ? OpenStatus.NotAuthentic : OpenStatus.NotEncrypted);
        }

        var meIsSender = ClientIds.Comparer.Equals(from, ClientId);
        IdentityPublicKey? senderKey;
        bool trusted;
        if (meIsSender)
        {
            senderKey = _ownKeys.GetValueOrDefault(envelope.SenderFingerprint);
            trusted = _book.Find(ClientId)?.Accepted.Contains(envelope.SenderFingerprint) == true;
        }
        else
        {
            var contact = await ContactCoreAsync(from, envelope.SenderFingerprint, cancellationToken).ConfigureAwait(false);
            senderKey = contact.Keys.GetValueOrDefault(envelope.SenderFingerprint);
            trusted = _book.Find(contact.ClientId)?.Accepted.Contains(envelope.SenderFingerprint) == true;
        }

        if (senderKey is null)
        {
            return new Opened(null, OpenStatus.NotAuthentic, envelope.MessageId);
        }

        var result = envelope.Open(_key, senderKey, context, meIsSender);
        var status = result.Failure switch
        {
            OpenFailure.None => OpenStatus.Ok,
            OpenFailure.OtherKey => OpenStatus.OtherKey,
            _ => OpenStatus.NotAuthentic,
        };
        return new Opened(result.Text, status, envelope.MessageId, trusted);
    }

    public void Dispose()
    {
        _key.Dispose();
        foreach (var key in _ownKeys.Values.Where(k => k != _key.Public))
        {
            key.Dispose();
        }

        foreach (var key in _contacts.Values.SelectMany(c => c.Keys.Values))
        {
            key.Dispose();
        }
    }

    /// <summary>The listed keys whose self-signature verifies for <paramref name="owner"/>; forged or garbled entries are dropped.</summary>
    private static Dictionary<string, IdentityPublicKey> VerifiedKeys(string owner, Keys keys)
    {
        var result = new Dictionary<string, IdentityPublicKey>(StringComparer.Ordinal);
        foreach (var published in keys.Published ?? [])
        {
            if (published is null)
            {
                continue; // "published": [null] parses; a hostile server must not crash the client with it
            }

            var key = IdentityPublicKey.TryParse(published.AgreeKey, published.SignKey);
            if (key is not null && key.VerifyBundle(owner, published.Signature) && !result.ContainsKey(key.Fingerprint))
            {
                result[key.Fingerprint] = key;
            }
            else
            {
                key?.Dispose();
            }
        }

        return result;
    }

    private static KeyBackupInfo ToWire(SealedBackup backup) =>
        new(backup.Fingerprint, Convert.ToBase64String(backup.Salt), backup.Iterations, Convert.ToBase64String(backup.Box));

    private static SealedBackup FromWire(KeyBackupInfo info) =>
        new(info.Fingerprint, WireBase64.DecodeOrEmpty(info.Salt), info.Iterations, WireBase64.DecodeOrEmpty(info.Sealed));
}
