using System.Text;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Direct messages, the conversation view and rooms (issue #4): seed 002's unread counts, "!TALK" and "!BACK",
/// seed 003's PM / DM / EX menu with its exact prompts, seed 004's room with timestamps and join notices.
/// </summary>
internal sealed partial class ChatApp
{
    /// <summary>DM seqs this client has shown or acknowledged; a redelivery is acknowledged again but not shown twice.</summary>
    private readonly SeenSet _delivered = new(10_000);

    /// <summary>Seqs shown in the open conversation view, so a live DM that races its own replay is shown once.</summary>
    private readonly HashSet<long> _viewShown = [];

    /// <summary>The ids of DMs sent with /dm or seed 003's DM, whose DM_SENT prints "Message sent".</summary>
    private readonly HashSet<string> _announce = new(StringComparer.Ordinal);
    private readonly List<string> _rooms = [];
    private Dictionary<string, int> _unread = new(StringComparer.OrdinalIgnoreCase);
    private string? _talkPeer;

    /// <summary>The peer of the TALK whose replay has not ended (TALK_END); its DMs until then are the replay.</summary>
    private string? _replayPeer;
    private long _talkLastFromPeer;
    private string? _room;
    private bool _autoJoining;
    private Seed003Step _menuStep;
    private string? _menuTo;
    private int _nextDmId;

    /// <summary>Seed 003's menu flows take the next lines as answers, not commands.</summary>
    private enum Seed003Step
    {
        None,
        PublicMessage,
        DirectTo,
        DirectMessage,
    }

    private InputView View => InChat ? InputView.Chat
        : _talkPeer is not null ? InputView.Talk
        : _connection is not null && _room is not null ? InputView.Room
        : InputView.Menu;

    /// <summary>After "Connected": seed 002's unread counts, then the default room (seed 004: a client is in the room).</summary>
    private async Task OnConnectedAsync(ParleyConnection connection)
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

        if (joinRoom is not null)
        {
            _autoJoining = true;
            await SendAsync(connection, new Join(joinRoom)).ConfigureAwait(false);
        }
    }

    private void ForgetMessagingState()
    {
        _rooms.Clear();
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
                _viewShown.Clear();
                // Ask for at least every unread message (up to the server's cap): opening the view marks them all read.
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
            case UserInput.PublicMenu:
                console.WriteLine("Message:");
                _menuStep = Seed003Step.PublicMessage;
                break;
            case UserInput.DirectMenu:
                // Seed 003: "send user list of active users to send message to", then "To:" once it has arrived.
                _menuStep = Seed003Step.DirectTo;
                await SendAsync(connection, new ListReq(OnlineOnly: true)).ConfigureAwait(false);
                break;
            case UserInput.Join join when Rooms.Normalize(join.Room) is null:
                console.WriteLine(Rooms.Rule);
                break;
            case UserInput.Join join:
                await SendAsync(connection, new Join(join.Room)).ConfigureAwait(false);
                break;
            case UserInput.Part part when (part.Room ?? _room) is not { } room:
                console.WriteLine("You are not in a room.");
                break;
            case UserInput.Part part:
                await SendAsync(connection, new Part(part.Room ?? _room!)).ConfigureAwait(false);
                break;
            case UserInput.Rooms:
                await SendAsync(connection, new RoomsReq()).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>A plain line in a conversation view or a room.</summary>
    private async Task SayAsync(ParleyConnection connection, string text)
    {
        if (Encoding.UTF8.GetByteCount(text) > connection.MaxMessageBytes)
        {
            console.WriteLine($"That message is longer than the server's limit of {connection.MaxMessageBytes} bytes; it was not sent.");
        }
        else if (_talkPeer is { } peer)
        {
            await SendDirectAsync(connection, peer, text, announce: false).ConfigureAwait(false);
        }
        else if (_room is { } room)
        {
            await SendAsync(connection, new Say(room, text)).ConfigureAwait(false);
        }
    }

    /// <summary>Seed 003's menu answers: the PM text, the DM recipient, the DM text. An empty answer cancels.</summary>
    private async Task OnMenuAnswerAsync(string line)
    {
        var step = _menuStep;
        _menuStep = Seed003Step.None;
        if (_connection is not { } connection)
        {
            return;
        }

        if (line.Trim().Length == 0)
        {
            console.WriteLine("Cancelled");
            return;
        }

        switch (step)
        {
            case Seed003Step.PublicMessage when !_rooms.Contains(Rooms.Default):
                console.WriteLine($"You are not in {Rooms.Default}; type \"/join {Rooms.Default}\" first. Your message was not sent.");
                break;
            case Seed003Step.PublicMessage when Encoding.UTF8.GetByteCount(line) > connection.MaxMessageBytes:
                console.WriteLine($"That message is longer than the server's limit of {connection.MaxMessageBytes} bytes; it was not sent.");
                break;
            case Seed003Step.PublicMessage:
                // Room messages are relayed, not stored, so the server sends no receipt; a refusal arrives as an ERROR.
                if (await SendAsync(connection, new Say(Rooms.Default, line)).ConfigureAwait(false))
                {
                    console.WriteLine("Message sent");
                }

                break;
            case Seed003Step.DirectTo when !ClientIds.IsValid(line.Trim()):
                // Seed 003: "check validity of entered user"; the server checks that the account exists.
                console.WriteLine($"Error: {ClientIds.Rule}");
                break;
            case Seed003Step.DirectTo:
                _menuTo = line.Trim();
                console.WriteLine("Enter message:");
                _menuStep = Seed003Step.DirectMessage;
                break;
            case Seed003Step.DirectMessage:
                await SendDirectAsync(connection, _menuTo!, line, announce: true).ConfigureAwait(false);
                break;
        }
    }

    private async Task SendDirectAsync(ParleyConnection connection, string to, string text, bool announce)
    {
        if (Encoding.UTF8.GetByteCount(text) > connection.MaxMessageBytes)
        {
            console.WriteLine($"That message is longer than the server's limit of {connection.MaxMessageBytes} bytes; it was not sent.");
            return;
        }

        var id = (++_nextDmId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (announce)
        {
            _announce.Add(id);
        }

        await SendAsync(connection, new Dm(to, text, id)).ConfigureAwait(false);
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

                if (_talkLastFromPeer > 0)
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
            case Joined joined:
                if (!_rooms.Contains(joined.Room))
                {
                    _rooms.Add(joined.Room);
                }

                _room = joined.Room;
                if (!_autoJoining)
                {
                    console.WriteLine($"Joined {joined.Room} ({Count(joined.Members, "member")})");
                }

                _autoJoining = false;
                UpdatePrompt();
                return true;
            case Parted parted:
                _rooms.Remove(parted.Room);
                if (_room == parted.Room)
                {
                    _room = _rooms.LastOrDefault();
                }

                console.WriteLine($"Left {parted.Room}");
                UpdatePrompt();
                return true;
            case Say say:
                // Seed 004's bare line for the default room; tagged for other rooms, and in a chat or a conversation
                // view, where a bare "bob: hi" would read as bob's chat or direct message.
                var bare = say.Room == Rooms.Default && View is InputView.Room or InputView.Menu;
                console.WriteLine(Display.Line(say.SentAt, bare ? null : $"[{say.Room}]", say.From ?? "?", say.Message));
                return true;
            case RoomNotice notice:
                console.WriteLine(NoticeText(notice));
                return true;
            case RoomList list:
                ShowRooms(list);
                return true;
            case Error error when _replayPeer is not null && error.Code is ErrorCodes.UnknownUser or ErrorCodes.InvalidClientId or ErrorCodes.StorageFailed or ErrorCodes.NotAllowed:
                // The conversation could not be opened: back to where the user was, with the reason.
                _talkPeer = null;
                _replayPeer = null;
                console.WriteLine($"Error: {Display.Clean(error.Text)}");
                UpdatePrompt();
                return true;
            case Error error when _autoJoining && error.Code is ErrorCodes.RoomFull or ErrorCodes.TooManyRooms or ErrorCodes.InvalidRoom:
                _autoJoining = false;
                console.WriteLine($"Could not join {joinRoom}: {Display.Clean(error.Text)}");
                return true;
            default:
                return false;
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
                console.WriteLine(Display.Line(dm.SentAt, null, from, dm.Message));
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
            // Seed 003's "*** New Message *** Message type: Direct Message (DM)", on one line with seed 004's time.
            console.WriteLine(Display.Line(dm.SentAt, "[DM]", from, dm.Message));
            _unread[from] = _unread.GetValueOrDefault(from) + 1;
        }

        // Acknowledged after it is on the screen: a crash in between means it stays undelivered, never lost.
        await SendAsync(connection, new DmAck(seq)).ConfigureAwait(false);
    }

    /// <summary>Seed 003's DM step 1: the list of active users, then "To:".</summary>
    private bool TryShowDirectMenuList(ListResp list)
    {
        if (_menuStep != Seed003Step.DirectTo)
        {
            return false;
        }

        console.WriteLine("Select a user to send a message to:");
        foreach (var user in list.Users.Where(u => u.Online))
        {
            console.WriteLine($"        {user.ClientId}");
        }

        console.WriteLine("To:");
        return true;
    }

    private static string NoticeText(RoomNotice notice)
    {
        // Seed 004's exact texts for the default room; other rooms are named.
        var inDefault = notice.Room == Rooms.Default;
        var who = Display.Clean(notice.ClientId);
        return notice.Event switch
        {
            RoomEvents.Joined when inDefault => $"New person joined the room. Username: {who}",
            RoomEvents.Joined => $"[{notice.Room}] New person joined the room. Username: {who}",
            RoomEvents.Disconnected when inDefault => $"{who} left the server.",
            RoomEvents.Disconnected => $"[{notice.Room}] {who} left the server.",
            _ when inDefault => $"{who} left the room.",
            _ => $"[{notice.Room}] {who} left the room.",
        };
    }

    private void ShowRooms(RoomList list)
    {
        console.WriteLine(list.Truncated ? $"Rooms ({list.Rooms.Length} largest listed):" : $"Rooms ({list.Rooms.Length}):");
        var width = list.Rooms.Length == 0 ? 0 : list.Rooms.Max(r => r.Name.Length);
        foreach (var room in list.Rooms)
        {
            console.WriteLine($"  {room.Name.PadRight(width)}  {Count(room.Members, "member")}{(room.Joined ? " (joined)" : "")}");
        }
    }

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>A bounded set of recent ids: the oldest is forgotten first.</summary>
    private sealed class SeenSet(int capacity)
    {
        private readonly HashSet<long> _set = [];
        private readonly Queue<long> _order = new();

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
