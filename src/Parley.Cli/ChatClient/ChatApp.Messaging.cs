using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Direct messages and the conversation view (issue #4): seed 002's unread counts, "!TALK" and "!BACK", /dm, delivery
/// acknowledgements and read marks. Rooms are in <c>ChatApp.Rooms.cs</c>, seed 003's menu in <c>ChatApp.Seed003Menu.cs</c>.
/// </summary>
internal sealed partial class ChatApp
{
    /// <summary>DM seqs this client has shown or acknowledged; a redelivery is acknowledged again but not shown twice.</summary>
    private readonly SeenSet _delivered = new(10_000);

    /// <summary>Seqs shown in the open conversation view, so a live DM that races its own replay is shown once.</summary>
    private readonly HashSet<long> _viewShown = [];

    /// <summary>The ids of DMs sent with /dm or seed 003's DM, whose DM_SENT prints "Message sent".</summary>
    private readonly HashSet<string> _announce = new(StringComparer.Ordinal);
    private Dictionary<string, int> _unread = new(StringComparer.OrdinalIgnoreCase);
    private string? _talkPeer;

    /// <summary>The peer of the TALK whose replay has not ended (TALK_END); its DMs until then are the replay.</summary>
    private string? _replayPeer;
    private long _talkLastFromPeer;

    /// <summary>Some DM of the running replay could not be checked (not shown), so TALK_END must not mark the replay read.</summary>
    private bool _replayUnchecked;
    private int _nextDmId;

    private InputView View => InChat ? InputView.Chat
        : _talkPeer is not null ? InputView.Talk
        : _connection is not null && _room is not null ? InputView.Room
        : InputView.Menu;

    /// <summary>
    /// After "Connected": seed 002's unread counts, then the default room (seed 004: a client is in the room), or after
    /// "Reconnected" the <paramref name="rooms"/> the user was in.
    /// </summary>
    private async Task OnConnectedAsync(ParleyConnection connection, IReadOnlyList<string>? rooms = null)
    {
        _unread = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var u in connection.Unread)
        {
            _unread[u.From] = _unread.GetValueOrDefault(u.From) + u.Count;
        }

        var total = connection.Unread.Sum(u => u.Count);
        if (total > 0)
        {
            var senders = string.Join(", ", connection.Unread.Select(u => $"{u.From} ({u.Count})"));
            console.WriteLine($"You have {total} unread message{(total == 1 ? "" : "s")}: {senders}");
        }

        foreach (var room in rooms ?? (joinRoom is null ? [] : [joinRoom]))
        {
            _silentJoins.Enqueue(room);
            await SendAsync(connection, new Join(room)).ConfigureAwait(false);
        }
    }

    /// <summary>What a log-on's link held. <paramref name="keepIdentity"/>: the identity key stays unlocked, to reconnect.</summary>
    private void ForgetMessagingState(bool keepIdentity = false)
    {
        StopListening();
        StopEncryption(keepIdentity);
        _rooms.Clear();
        _silentJoins.Clear();
        _room = null;
        _talkPeer = null;
        _replayPeer = null;
        _menuStep = Seed003Step.None;
        _announce.Clear();
    }

    private async Task OnMessagingInputAsync(ParleyConnection connection, UserInput input)
    {
        switch (input)
        {
            case UserInput.Talk when InChat:
                console.WriteLine($"You are chatting with {_peer}; type \"End chat\" first.");
                break;
            case UserInput.Talk talk when ClientIds.Comparer.Equals(talk.ClientId, connection.ClientId):
                console.WriteLine("Your conversations are with other people.");
                break;
            case UserInput.Talk when _replayPeer is not null:
                console.WriteLine($"Still opening the conversation with {_replayPeer}; wait a moment.");
                break;
            case UserInput.Talk talk:
                _talkPeer = talk.ClientId;
                _replayPeer = talk.ClientId;
                _talkLastFromPeer = 0;
                _replayUnchecked = false;
                _viewShown.Clear();
                // Ask for at least every unread message (up to the server's cap): the READ after the replay marks them all read.
                await SendAsync(connection, new Protocol.Messages.Talk(talk.ClientId, Math.Max(50, _unread.GetValueOrDefault(talk.ClientId)))).ConfigureAwait(false);
                UpdatePrompt();
                break;
            case UserInput.Back when _talkPeer is null:
                console.WriteLine("You are not in a conversation.");
                break;
            case UserInput.Back:
                console.WriteLine($"Left the conversation with {_talkPeer}");
                _talkPeer = null;
                UpdatePrompt();
                break;
            case UserInput.DirectMessage dm:
                await SendDirectAsync(connection, dm.ClientId, dm.Text, announce: true).ConfigureAwait(false);
                break;
            case UserInput.PublicMenu or UserInput.DirectMenu:
                await OnSeed003MenuAsync(connection, input).ConfigureAwait(false);
                break;
            default:
                await OnRoomInputAsync(connection, input).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>A plain line in a conversation view or a room.</summary>
    private async Task SayAsync(ParleyConnection connection, string text)
    {
        if (_talkPeer is { } peer)
        {
            await SendDirectAsync(connection, peer, text, announce: false).ConfigureAwait(false);
        }
        else if (_room is { } room && !IsTooLong(connection, text, encrypted: false))
        {
            await SendAsync(connection, new Say(room, text)).ConfigureAwait(false);
        }
    }

    private async Task SendDirectAsync(ParleyConnection connection, string to, string text, bool announce)
    {
        if (IsTooLong(connection, text, encrypted: true)
            || await SealForAsync(to, MessageKind.Dm, "", text, announce).ConfigureAwait(false) is not { } envelope)
        {
            return;
        }

        var id = (++_nextDmId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (announce)
        {
            _announce.Add(id);
        }

        await SendAsync(connection, new Dm(to, envelope, id)).ConfigureAwait(false);
    }

    /// <summary>Handles the messaging replies and deliveries; false if <paramref name="message"/> is not one of them.</summary>
    private async Task<bool> OnMessagingEventAsync(ParleyConnection connection, ParleyMessage message)
    {
        switch (message)
        {
            case Dm dm:
                await OnDirectMessageAsync(connection, dm).ConfigureAwait(false);
                return true;
            case DmSent sent when _announce.Remove(sent.Id):
                // Seed 003: "Message sent" once the server has stored it.
                console.WriteLine("Message sent");
                if (!sent.Online)
                {
                    console.WriteLine($"{sent.To} is offline and will see it at their next log-on.");
                }

                return true;
            case DmSent:
                return true;
            case TalkEnd end when ClientIds.Comparer.Equals(end.ClientId, _replayPeer):
                _replayPeer = null;
                if (!ClientIds.Comparer.Equals(end.ClientId, _talkPeer))
                {
                    return true; // the view was left before its replay ended: nothing is marked read
                }

                if (_replayUnchecked)
                {
                    // Some of the replay could not be checked and was not shown: nothing is marked read.
                    console.WriteLine($"Some messages from {Display.Clean(end.ClientId)} could not be checked; they stay unread.");
                }
                else if (_talkLastFromPeer > 0)
                {
                    // The replay is on the screen: now it is read (a client that died mid-replay leaves it unread).
                    await SendAsync(connection, new Read(end.ClientId, _talkLastFromPeer)).ConfigureAwait(false);
                    _unread.Remove(end.ClientId);
                }

                _talkPeer = end.ClientId; // the server's letter case

                console.WriteLine(end.Count == 0
                    ? $"No messages with {end.ClientId} yet. Type to send; !BACK returns to the menu."
                    : end.Unread > end.Count
                        ? $"Conversation with {end.ClientId}: the last {Count(end.Count, "message")}; {end.Unread} were unread and the older ones are not shown. Type to send; !BACK returns to the menu."
                        : $"Conversation with {end.ClientId}: {Count(end.Count, "message")}, {end.Unread} unread. Type to send; !BACK returns to the menu.");
                UpdatePrompt();
                return true;
            case TalkEnd:
                return true;
            case Error error when _replayPeer is not null && error.Code is ErrorCodes.UnknownUser or ErrorCodes.InvalidClientId or ErrorCodes.StorageFailed or ErrorCodes.NotAllowed:
                // The conversation could not be opened: back to where the user was, with the reason.
                _talkPeer = null;
                _replayPeer = null;
                console.WriteLine($"Error: {Display.Clean(error.Text)}");
                UpdatePrompt();
                return true;
            default:
                return OnRoomEvent(message);
        }
    }

    private async Task OnDirectMessageAsync(ParleyConnection connection, Dm dm)
    {
        var from = dm.From ?? "?";
        var fromMe = ClientIds.Comparer.Equals(from, connection.ClientId);
        var seq = dm.Seq ?? 0;
        var peer = fromMe ? dm.To : from;
        var replaying = _replayPeer is not null && ClientIds.Comparer.Equals(peer, _replayPeer);
        if (replaying && !fromMe)
        {
            _talkLastFromPeer = Math.Max(_talkLastFromPeer, seq);
        }

        if (replaying && !ClientIds.Comparer.Equals(peer, _talkPeer))
        {
            return; // the replay of a view the user has already left: not news, and marked read at TALK_END
        }

        if (_talkPeer is not null && ClientIds.Comparer.Equals(peer, _talkPeer))
        {
            if (_viewShown.Add(seq))
            {
                var opening = await OpenDirectAsync(dm, from, fromMe, seq).ConfigureAwait(false);
                if (opening.Unchecked)
                {
                    // Not shown, so neither delivered nor read: it comes back at the next /talk.
                    _viewShown.Remove(seq);
                    _replayUnchecked |= replaying;
                    return;
                }

                if (opening.Text is { } text)
                {
                    console.WriteLine(Display.Line(dm.SentAt, null, from, text));
                }
            }

            _delivered.Add(seq);
            if (fromMe)
            {
                return;
            }

            if (replaying)
            {
                return; // read once the whole replay is shown (TALK_END)
            }

            // Shown in its conversation view: read, which implies delivered.
            await SendAsync(connection, new Read(from, seq)).ConfigureAwait(false);
            return;
        }

        if (fromMe)
        {
            return;
        }

        if (_delivered.Add(seq))
        {
            var opening = await OpenDirectAsync(dm, from, fromMe, seq).ConfigureAwait(false);
            if (opening.Unchecked)
            {
                _delivered.Remove(seq);
                return; // not acknowledged: it stays undelivered and is counted at the next log-on
            }

            if (opening.Text is { } shown)
            {
                // Seed 003's "*** New Message *** Message type: Direct Message (DM)", on one line with seed 004's time.
                console.WriteLine(Display.Line(dm.SentAt, "[DM]", from, shown));
                _unread[from] = _unread.GetValueOrDefault(from) + 1;
            }
        }

        // Acknowledged after it is on the screen (or its warning is: a forgery is not kept waiting either); a crash
        // in between means it stays undelivered, never lost.
        await SendAsync(connection, new DmAck(seq)).ConfigureAwait(false);
    }

    /// <summary>
    /// A DM's text, or null with a warning printed. Ours are read from the sender's copy (the recipient is
    /// <c>To</c>); anyone else's must be addressed to us, whatever <c>To</c> the server gives. The same envelope
    /// under a second seq is a copy the server made.
    /// </summary>
    private Task<Opening> OpenDirectAsync(Dm dm, string from, bool fromMe, long seq) =>
        OpenAsync(dm.Message, MessageKind.Dm, from, fromMe ? dm.To : OwnId, "", id =>
        {
            if (_dmEnvelopes.Count >= EnvelopesRemembered)
            {
                _dmEnvelopes.Clear(); // crude but bounded: a replay of a message this old is not caught
            }

            return !_dmEnvelopes.TryAdd(id, seq) && _dmEnvelopes[id] != seq;
        });

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>A bounded set of recent ids: the oldest is forgotten first.</summary>
    private sealed class SeenSet(int capacity)
    {
        private readonly HashSet<long> _set = [];
        private readonly Queue<long> _order = new();

        /// <summary>Forgets <paramref name="id"/> (its place in the order stays until it ages out).</summary>
        public void Remove(long id) => _set.Remove(id);

        public bool Add(long id)
        {
            if (!_set.Add(id))
            {
                return false;
            }

            _order.Enqueue(id);
            if (_order.Count > capacity)
            {
                _set.Remove(_order.Dequeue());
            }

            return true;
        }
    }
}
