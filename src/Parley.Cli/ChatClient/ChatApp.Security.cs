using Parley.Client;
using Parley.Client.EndToEnd;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Cli.ChatClient;

/// <summary>
/// End-to-end encryption in the terminal (issue #5; docs/SECURITY.md): the identity key unlocked at log-on, every
/// CHAT and DM sealed to the peer and opened on arrival, loud warnings for anything that does not verify, trust on
/// first use with a hold on a contact whose key changed, and /verify's safety numbers. Rooms are not end-to-end.
/// </summary>
internal sealed partial class ChatApp
{
    /// <summary>Put before a message signed by a key the user has not accepted for its sender (/accept or /verify … yes clears it).</summary>
    private const string UnacceptedKeyMark = "[key not accepted]";

    /// <summary>Messages not sent because the contact's key changed, by contact, until /accept or /verify … yes.</summary>
    private readonly Dictionary<string, List<HeldMessage>> _held = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Contacts whose key-change warning has been shown in this log-on (it is shown once, in full).</summary>
    private readonly HashSet<string> _warnedChanged = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Envelope IDs remembered for replay detection before the oldest are forgotten (a long session's memory stays bounded).</summary>
    private const int EnvelopesRemembered = 50_000;

    /// <summary>Envelope IDs of DMs seen, with their seq: the same ID under another seq is a copy the server replayed.</summary>
    private readonly Dictionary<string, long> _dmEnvelopes = new(StringComparer.Ordinal);

    /// <summary>Envelope IDs of live session CHATs seen: each is sent once, so a second copy is a replay.</summary>
    private readonly HashSet<string> _chatEnvelopes = new(StringComparer.Ordinal);

    /// <summary>Envelope IDs in the history listing being shown (cleared at its HISTORY_END and at log-off).</summary>
    private readonly HashSet<string> _historyEnvelopes = new(StringComparer.Ordinal);

    /// <summary>The fingerprint whose safety number /verify last showed, per contact: "/verify id yes" confirms only that one.</summary>
    private readonly Dictionary<string, string> _shownSafety = new(StringComparer.OrdinalIgnoreCase);

    private EndToEndSession? _e2e;
    private string? _e2eUnavailable;

    /// <summary>A message held for a contact whose key changed: re-sealed and sent once the user accepts the new key.</summary>
    private sealed record HeldMessage(MessageKind Kind, string Conversation, string Text, bool Announce);

    /// <summary>At log-on: unlock (or make) the user's identity key. Failure leaves rooms usable and says why.</summary>
    private async Task StartEncryptionAsync(ParleyConnection connection, string password, CancellationToken cancellationToken)
    {
        _e2e?.Dispose();
        _e2e = null;
        _e2eUnavailable = null;
        _held.Clear();
        _warnedChanged.Clear();
        try
        {
            var book = stateDirectory is null
                ? ContactBook.InMemory()
                : ContactBook.Open(stateDirectory, $"{options.Host}:{options.Port}", connection.ClientId);
            _e2e = await EndToEndSession.StartAsync(connection, password, book, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ParleyClientException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            _e2eUnavailable = e.Message;
        }
    }

    /// <summary>Said after "Connected": a replaced key, or why encryption is off.</summary>
    private void ReportEncryption()
    {
        if (_e2e?.BookProblem is { } problem)
        {
            console.WriteLine($"Warning: {Display.Clean(problem)}.");
        }

        if (_e2e?.Notice is { } notice)
        {
            console.WriteLine($"Warning: {notice}");
        }
        else if (_e2eUnavailable is { } reason)
        {
            console.WriteLine($"Warning: end-to-end encryption is not available ({Display.Clean(reason)}); chats and direct messages cannot be sent or read.");
        }
    }

    /// <summary>At log-off, or with <paramref name="keepIdentity"/> when the link dropped and the client will reconnect.</summary>
    private void StopEncryption(bool keepIdentity = false)
    {
        foreach (var (peer, held) in _held)
        {
            console.WriteLine($"{Count(held.Count, "message")} held for {peer} {(held.Count == 1 ? "was" : "were")} not sent.");
        }

        _held.Clear();
        _historyEnvelopes.Clear();
        if (keepIdentity)
        {
            return;
        }

        _shownSafety.Clear();
        _e2e?.Dispose();
        _e2e = null;
    }

    /// <summary>
    /// The envelope of <paramref name="text"/> for <paramref name="peer"/>, or null when it must not be sent now: the
    /// reason is printed, and a message for a contact whose key changed is held until the user accepts the key.
    /// </summary>
    private async Task<string?> SealForAsync(string peer, MessageKind kind, string conversation, string text, bool announce)
    {
        if (_e2e is not { } e2e)
        {
            console.WriteLine($"Not sent: end-to-end encryption is not available ({Display.Clean(_e2eUnavailable ?? "not logged on")}).");
            return null;
        }

        var contact = await LookUpAsync(e2e, peer).ConfigureAwait(false);
        switch (contact?.Trust)
        {
            case null:
                return null;
            case KeyTrust.Unknown:
                console.WriteLine($"{Display.Clean(peer)} is not a user here; not sent.");
                return null;
            case KeyTrust.NoKey:
                console.WriteLine($"{Display.Clean(contact.ClientId)} has no encryption key yet (they have not logged on since signing up); not sent.");
                return null;
            case KeyTrust.Changed:
                WarnKeyChanged(contact);
                if (!_held.TryGetValue(contact.ClientId, out var held))
                {
                    _held[contact.ClientId] = held = [];
                }

                held.Add(new HeldMessage(kind, conversation, text, announce));
                console.WriteLine($"Held, not sent: {contact.ClientId}'s key changed. /verify {contact.ClientId}, then /accept {contact.ClientId} to send.");
                return null;
            case not null when conversation.Length > MessageContext.MaxConversationLength:
                console.WriteLine("Not sent: the server gave this chat a session ID too long to seal a message to.");
                return null;
            default:
                return e2e.Seal(contact, kind, conversation, text);
        }
    }

    /// <summary>
    /// What became of an incoming CHAT or DM body: the text to show, or null when a warning was printed instead.
    /// <c>Unchecked</c>: it could not be checked at all (the sender's keys could not be fetched), so it must not count
    /// as delivered or read: it comes back later.
    /// </summary>
    private readonly record struct Opening(string? Text, bool Unchecked = false);

    /// <summary>
    /// Verifies and decrypts a CHAT or DM body; no text, with a warning printed, when it must not be shown. A message
    /// signed by a key of the sender's that the user has not accepted is shown, marked, after the key-change warning.
    /// </summary>
    private async Task<Opening> OpenAsync(string body, MessageKind kind, string from, string to, string conversation, Func<string, bool>? isReplay = null)
    {
        if (_e2e is not { } e2e)
        {
            console.WriteLine($"A message from {Display.Clean(from)} cannot be read: end-to-end encryption is not available.");
            return new Opening(null, Unchecked: true);
        }

        Opened opened;
        try
        {
            opened = await e2e.OpenAsync(body, kind, from, to, conversation).ConfigureAwait(false);
        }
        catch (ParleyClientException e)
        {
            console.WriteLine($"A message from {Display.Clean(from)} could not be checked ({Display.Clean(e.Message)}); it is not shown now.");
            return new Opening(null, Unchecked: true);
        }

        switch (opened.Status)
        {
            case OpenStatus.NotEncrypted:
                console.WriteLine($"Warning: a message from {Display.Clean(from)} was not end-to-end encrypted, so the server could have written it; it is not shown.");
                return default;
            case OpenStatus.NotAuthentic:
                console.WriteLine($"Warning: a message from {Display.Clean(from)} failed its end-to-end check and is not shown: it was altered, or it was not sent to you by {Display.Clean(from)}.");
                return default;
            case OpenStatus.OtherKey:
                console.WriteLine($"A message from {Display.Clean(from)} was encrypted to an earlier key of yours and cannot be read.");
                return default;
        }

        if (isReplay?.Invoke(opened.MessageId!) == true)
        {
            console.WriteLine($"Warning: a message from {Display.Clean(from)} is a copy of one already shown (replayed by the server?); it is not shown again.");
            return default;
        }

        if (opened.KeyTrusted)
        {
            return new Opening(opened.Text);
        }

        // Signed by a key of the sender's that the user never accepted: warned about, and every such line marked.
        if (await LookUpAsync(e2e, from).ConfigureAwait(false) is { Trust: KeyTrust.Changed } contact)
        {
            WarnKeyChanged(contact);
        }

        return new Opening($"{UnacceptedKeyMark} {opened.Text}");
    }

    private async Task OnSecurityInputAsync(UserInput input)
    {
        if (_e2e is not { } e2e)
        {
            console.WriteLine($"End-to-end encryption is not available ({Display.Clean(_e2eUnavailable ?? "not logged on")}).");
            return;
        }

        switch (input)
        {
            case UserInput.Verify verify when await LookUpAsync(e2e, verify.ClientId).ConfigureAwait(false) is { Current: not null } contact:
                if (verify.Confirmed)
                {
                    // "yes" confirms the number the user compared, so it must still be the current key's.
                    if (_shownSafety.GetValueOrDefault(contact.ClientId) != contact.Current.Fingerprint)
                    {
                        console.WriteLine($"Nothing was marked: type /verify {contact.ClientId} to see the current safety number first, then compare it.");
                        break;
                    }

                    e2e.Accept(contact, verified: true);
                    _warnedChanged.Remove(contact.ClientId);
                    console.WriteLine($"{contact.ClientId} is verified.");
                    await SendHeldAsync(contact).ConfigureAwait(false);
                    break;
                }

                _shownSafety[contact.ClientId] = contact.Current.Fingerprint;
                var groups = e2e.SafetyNumberWith(contact).Split(' ');
                console.WriteLine($"Safety number for you and {contact.ClientId}:");
                console.WriteLine("  " + string.Join(' ', groups[..6]));
                console.WriteLine("  " + string.Join(' ', groups[6..]));
                console.WriteLine(contact.Trust switch
                {
                    KeyTrust.Verified => $"{contact.ClientId} is verified.",
                    KeyTrust.Changed => $"{contact.ClientId}'s key CHANGED since you first saw it. If {contact.ClientId} reads the same number (/verify {OwnId}), type /verify {contact.ClientId} yes.",
                    _ => $"Compare it with what {contact.ClientId} sees (/verify {OwnId}) in person or on a call; if it is the same, type /verify {contact.ClientId} yes.",
                });
                break;
            case UserInput.AcceptKey accept when await LookUpAsync(e2e, accept.ClientId).ConfigureAwait(false) is { Current: not null } contact:
                e2e.Accept(contact, verified: false);
                _warnedChanged.Remove(contact.ClientId);
                console.WriteLine($"You now trust {contact.ClientId}'s current key.");
                await SendHeldAsync(contact).ConfigureAwait(false);
                break;
            case UserInput.Verify or UserInput.AcceptKey:
                var id = input is UserInput.Verify v ? v.ClientId : ((UserInput.AcceptKey)input).ClientId;
                console.WriteLine($"{Display.Clean(id)} has no encryption key to check.");
                break;
        }
    }

    private string OwnId => _connection?.ClientId ?? "you";

    /// <summary>Sends what was held for <paramref name="contact"/>, sealed to the key the user just accepted.</summary>
    private async Task SendHeldAsync(Contact contact)
    {
        if (!_held.Remove(contact.ClientId, out var held) || _connection is not { } connection)
        {
            return;
        }

        foreach (var message in held)
        {
            if (message.Kind == MessageKind.Dm)
            {
                await SendDirectAsync(connection, contact.ClientId, message.Text, message.Announce).ConfigureAwait(false);
            }
            else if (message.Conversation == _sessionId)
            {
                await SendChatAsync(connection, message.Text).ConfigureAwait(false);
            }
            else
            {
                console.WriteLine($"A held chat message for {contact.ClientId} was not sent: that chat has ended.");
            }
        }
    }

    /// <summary>
    /// KEYS_CHANGED: forget the contact's cached keys, so the next message to them is checked against the new key.
    /// A contact already dealt with in this log-on is looked up at once, so the warning comes before anything is typed.
    /// </summary>
    private async Task OnKeysChangedAsync(KeysChanged changed)
    {
        if (_e2e is { } e2e && e2e.Forget(changed.ClientId) && await LookUpAsync(e2e, changed.ClientId).ConfigureAwait(false) is { Trust: KeyTrust.Changed } contact)
        {
            WarnKeyChanged(contact);
        }
    }

    /// <summary>Whether a live CHAT's envelope was seen before: each is sent once, so a second copy is a replay.</summary>
    private bool IsRepeatedChat(string envelopeId)
    {
        if (_chatEnvelopes.Count >= EnvelopesRemembered)
        {
            _chatEnvelopes.Clear(); // crude but bounded: a replay of a message this old is not caught
        }

        return !_chatEnvelopes.Add(envelopeId);
    }

    /// <summary>Seed 001's CHAT in a session, sealed to the peer.</summary>
    private async Task SendChatAsync(ParleyConnection connection, string text)
    {
        if (!IsTooLong(connection, text, encrypted: true)
            && await SealForAsync(_peer!, MessageKind.Chat, _sessionId!, text, announce: false).ConfigureAwait(false) is { } envelope)
        {
            await SendAsync(connection, new Chat(_sessionId!, envelope)).ConfigureAwait(false);
        }
    }

    private async Task<Contact?> LookUpAsync(EndToEndSession e2e, string clientId)
    {
        try
        {
            return await e2e.ContactAsync(clientId).ConfigureAwait(false);
        }
        catch (ParleyClientException e)
        {
            console.WriteLine($"Could not look up encryption keys: {Display.Clean(e.Message)}");
            return null;
        }
    }

    /// <summary>The loud warning, once per contact per log-on: a changed key is what an impostor (or a hostile server) looks like.</summary>
    private void WarnKeyChanged(Contact contact)
    {
        if (!_warnedChanged.Add(contact.ClientId))
        {
            return;
        }

        console.WriteLine($"*** WARNING: {contact.ClientId}'s encryption key has CHANGED. ***");
        if (contact.WasVerified)
        {
            console.WriteLine($"You had VERIFIED {contact.ClientId}'s previous key: compare safety numbers again before trusting this one.");
        }

        console.WriteLine($"Someone may be impersonating {contact.ClientId}, or {contact.ClientId} lost their key (a password reset).");
        console.WriteLine($"Messages to {contact.ClientId} are held. Compare safety numbers with /verify {contact.ClientId}, then /accept {contact.ClientId} to send them.");
    }
}
