using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Server.Connections;

namespace Parley.Server.Messaging;

/// <summary>
/// Rooms (issue #4): seed 003's public messages and seed 004's chat room, plus named rooms. A room exists while it
/// has members and lives only in memory: its messages are relayed and never stored (004: the server does not log
/// messages). Membership changes take one lock; each room's member list is an immutable array swapped on change,
/// so a SAY reads it without the lock and fans out with non-blocking enqueues — a member too slow to keep up is
/// disconnected by its own full queue rather than slowing the room.
/// </summary>
internal sealed class RoomRegistry(ParleyServerOptions options, TimeProvider time, Hosting.ServerMetrics metrics, ILogger<RoomRegistry> logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Room> _rooms = new(StringComparer.Ordinal);

    public ParleyMessage Join(ClientConnection client, string requested)
    {
        if (Rooms.Normalize(requested) is not { } name)
        {
            return new Error(ErrorCodes.InvalidRoom, Rooms.Rule);
        }

        Room room;
        ClientConnection[] others;
        lock (_gate)
        {
            if (client.Rooms.Contains(name))
            {
                return new Joined(name, _rooms[name].Members.Length);
            }

            if (client.Rooms.Count >= options.MaxRoomsPerClient)
            {
                return new Error(ErrorCodes.TooManyRooms, $"You are in {client.Rooms.Count} rooms, the most allowed; leave one first.");
            }

            if (!_rooms.TryGetValue(name, out room!))
            {
                if (_rooms.Count >= options.MaxRooms)
                {
                    return new Error(ErrorCodes.TooManyRooms, $"The server has {_rooms.Count} rooms, the most it allows; join an existing one.");
                }

                room = new Room(name);
                _rooms.Add(name, room);
            }
            else if (room.Members.Length >= options.MaxRoomMembers)
            {
                return new Error(ErrorCodes.RoomFull, $"{name} is full ({options.MaxRoomMembers} members).");
            }

            others = room.Members;
            room.Members = [.. others, client];
            client.Rooms.Add(name);
        }

        // A log-on that replaces an older connection of the same ID is no news to the room (nor is that one's leaving).
        if (!HasOther(others, client))
        {
            Notify(others, new RoomNotice(name, client.ClientId, RoomEvents.Joined));
        }

        return new Joined(name, others.Length + 1);
    }

    public ParleyMessage Part(ClientConnection client, string requested)
    {
        var name = Rooms.Normalize(requested);
        ClientConnection[] remaining;
        lock (_gate)
        {
            if (name is null || !client.Rooms.Remove(name))
            {
                return new Error(ErrorCodes.NotInRoom, $"You are not in {Display(requested)}.");
            }

            remaining = RemoveLocked(name, client);
        }

        Notify(remaining, new RoomNotice(name, client.ClientId, RoomEvents.Left));
        return new Parted(name);
    }

    /// <summary>Takes a departing client out of every room; the others see "left the server" (seed 004).</summary>
    public void LeaveAll(ClientConnection client)
    {
        List<(string Room, ClientConnection[] Remaining)> left = [];
        lock (_gate)
        {
            foreach (var name in client.Rooms)
            {
                left.Add((name, RemoveLocked(name, client)));
            }

            client.Rooms.Clear();
        }

        foreach (var (name, remaining) in left)
        {
            if (!HasOther(remaining, client))
            {
                Notify(remaining, new RoomNotice(name, client.ClientId, RoomEvents.Disconnected));
            }
        }
    }

    /// <summary>Relays a SAY to every other member, stamped with sender and time. Returns an ERROR for the sender, if any.</summary>
    public ParleyMessage? Say(ClientConnection from, Say say)
    {
        var name = Rooms.Normalize(say.Room);
        Room? room = null;
        lock (_gate)
        {
            if (name is not null && from.Rooms.Contains(name))
            {
                room = _rooms[name];
            }
        }

        if (room is null)
        {
            return new Error(ErrorCodes.NotInRoom, $"You are not in {Display(say.Room)}; join it first. Your message was not sent.");
        }

        if (options.CheckMessageSize(say.Message) is { } tooLarge)
        {
            return tooLarge;
        }

        var relayed = new Say(room.Name, say.Message, from.ClientId, time.GetUtcNow().ToUnixTimeMilliseconds());
        var members = Volatile.Read(ref room.Members);
        var relays = 0;
        foreach (var member in members)
        {
            if (!ReferenceEquals(member, from) && member.TryEnqueue(relayed))
            {
                relays++;
            }
        }

        metrics.Relayed(Hosting.MessageKind.Room, relays);

        // Seed 004's server line "Mesage exchanged": that something was said, never what.
        logger.LogDebug("{ClientId} said something in {Room} to {Count} members", from.ClientId, room.Name, members.Length - 1);
        return null;
    }

    public RoomList List(ClientConnection client)
    {
        RoomInfo[] all;
        lock (_gate)
        {
            all = [.. _rooms.Values.Select(r => new RoomInfo(r.Name, r.Members.Length, client.Rooms.Contains(r.Name)))];
        }

        var listed = all.OrderByDescending(r => r.Members).ThenBy(r => r.Name, StringComparer.Ordinal).Take(options.RoomsPerFrame).ToArray();
        return new RoomList(listed, listed.Length < all.Length);
    }

    private ClientConnection[] RemoveLocked(string name, ClientConnection client)
    {
        var room = _rooms[name];
        var remaining = room.Members.Where(m => !ReferenceEquals(m, client)).ToArray();
        room.Members = remaining;
        if (remaining.Length == 0)
        {
            _rooms.Remove(name);
        }

        return remaining;
    }

    /// <summary>Whether another connection of <paramref name="client"/>'s ID is among <paramref name="members"/>.</summary>
    private static bool HasOther(ClientConnection[] members, ClientConnection client) =>
        members.Any(m => !ReferenceEquals(m, client) && ClientIds.Comparer.Equals(m.ClientId, client.ClientId));

    private static void Notify(ClientConnection[] members, RoomNotice notice)
    {
        foreach (var member in members)
        {
            member.TryEnqueue(notice);
        }
    }

    private static string Display(string requested) => Rooms.Normalize(requested) ?? "that room";

    private sealed class Room(string name)
    {
        public string Name { get; } = name;

        /// <summary>Replaced, never changed in place, under the registry's lock; read without it.</summary>
        public ClientConnection[] Members = [];
    }
}
