using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Rooms (issue #4): seed 004's room with its join and leave notices, which is also seed 003's "all active users",
/// and named rooms (/join, /part, /rooms). Room messages are relayed by the server and never stored.
/// </summary>
internal sealed partial class ChatApp
{
    private readonly List<string> _rooms = [];

    /// <summary>The room plain lines go to: the last one joined.</summary>
    private string? _room;

    /// <summary>
    /// The JOINs sent at log-on, or to rejoin after a reconnect, in order: they are answered silently, so seed 001's
    /// transcripts are unchanged by them. The server answers a link's requests in order, so the next answer is the first's.
    /// </summary>
    private readonly Queue<string> _silentJoins = new();

    private async Task OnRoomInputAsync(ParleyConnection connection, UserInput input)
    {
        switch (input)
        {
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

    /// <summary>Handles the room replies and relays; false if <paramref name="message"/> is not one of them.</summary>
    private bool OnRoomEvent(ParleyMessage message)
    {
        switch (message)
        {
            case Joined joined:
                if (!_rooms.Contains(joined.Room))
                {
                    _rooms.Add(joined.Room);
                }

                _room = joined.Room;
                if (!_silentJoins.TryDequeue(out _))
                {
                    console.WriteLine($"Joined {joined.Room} ({Count(joined.Members, "member")})");
                }

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
            case Error error when _silentJoins.Count > 0 && error.Code is ErrorCodes.RoomFull or ErrorCodes.TooManyRooms or ErrorCodes.InvalidRoom:
                console.WriteLine($"Could not join {_silentJoins.Dequeue()}: {Display.Clean(error.Text)}");
                return true;
            default:
                return false;
        }
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
}
