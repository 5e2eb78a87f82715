namespace Parley.Protocol.Messages;

// Messaging beyond CHAT sessions (issue #4; docs/PROTOCOL.md §11): direct messages with offline delivery and unread
// counts (seeds 002, 003 "DM"), and rooms relayed to their members without being stored (seeds 003 "PM", 004).

/// <summary>
/// Seed 003 "DM", seed 002 "!TALK". Client → server: <c>To</c>, <c>Message</c> and <c>Id</c> (the sender's own
/// label, echoed in <see cref="DmSent"/>). Server → client: the stored message, <c>Seq</c> (the server's id: it
/// orders a conversation and de-duplicates), <c>From</c> and <c>SentAt</c> (Unix milliseconds) filled in. The same
/// shape carries live deliveries and the past messages a <see cref="Talk"/> replays.
/// </summary>
public sealed record Dm(string To, string Message, string? Id = null, string? From = null, long? Seq = null, long? SentAt = null)
    : ParleyMessage;

/// <summary>
/// Server → sender, once the DM is durable (never before: "Message sent" means it survives a crash). <c>Online</c>
/// says whether the recipient was online to receive it at once; if not it waits for their next log-on.
/// </summary>
public sealed record DmSent(string Id, string To, long Seq, long SentAt, bool Online) : ParleyMessage;

/// <summary>
/// Client → server: the client holds the DM <c>Seq</c>. Only then does it count as delivered; until then it counts
/// against the recipient's offline queue (<c>--max-offline-messages</c>).
/// </summary>
public sealed record DmAck(long Seq) : ParleyMessage;

/// <summary>
/// Seed 002's conversation view ("!TALK user"). Client → server: replay the last <c>Limit</c> DMs with
/// <c>ClientId</c> (oldest first, as <see cref="Dm"/>), then <see cref="TalkEnd"/>; everything replayed counts as read.
/// </summary>
public sealed record Talk(string ClientId, int Limit = 50) : ParleyMessage;

/// <summary>Server → client after a <see cref="Talk"/> replay: how many DMs were replayed, and how many of them were unread.</summary>
public sealed record TalkEnd(string ClientId, int Count, int Unread) : ParleyMessage;

/// <summary>Client → server: every DM from <c>ClientId</c> up to <c>Seq</c> was shown in its conversation view, so it is read.</summary>
public sealed record Read(string ClientId, long Seq) : ParleyMessage;

/// <summary>Unread DMs from one sender, in <see cref="Connected.Unread"/> (seed 002: "the number of unread messages as well as the names").</summary>
public sealed record UnreadCount(string From, int Count);

/// <summary>Client → server: join (creating if needed) a room. Names are <see cref="Rooms.Rule"/>.</summary>
public sealed record Join(string Room) : ParleyMessage;

/// <summary>Server → client: you are in <c>Room</c>, which now has <c>Members</c> members, you included.</summary>
public sealed record Joined(string Room, int Members) : ParleyMessage;

/// <summary>Client → server: leave a room.</summary>
public sealed record Part(string Room) : ParleyMessage;

/// <summary>Server → client: you have left <c>Room</c>.</summary>
public sealed record Parted(string Room) : ParleyMessage;

/// <summary>
/// A room message (seed 003 "PM", seed 004). Client → server: <c>Room</c> and <c>Message</c>. Server → every other
/// member: with <c>From</c> and <c>SentAt</c>. Relayed, never stored (004: the server does not log messages).
/// </summary>
public sealed record Say(string Room, string Message, string? From = null, long? SentAt = null) : ParleyMessage;

/// <summary>Server → the other members of a room: <c>ClientId</c> joined, left, or left the server (<see cref="RoomEvents"/>).</summary>
public sealed record RoomNotice(string Room, string ClientId, string Event) : ParleyMessage;

/// <summary>Client → server: which rooms exist.</summary>
public sealed record RoomsReq : ParleyMessage;

/// <summary>One room in a <see cref="RoomList"/>.</summary>
public sealed record RoomInfo(string Name, int Members, bool Joined);

/// <summary>Server → client: the rooms, largest first, cut at <c>--max-rooms-listed</c> (then <c>Truncated</c>).</summary>
public sealed record RoomList(RoomInfo[] Rooms, bool Truncated) : ParleyMessage;

/// <summary>Values of <see cref="RoomNotice.Event"/>.</summary>
public static class RoomEvents
{
    /// <summary>Seed 004: "New person joined the room. Username: Ira".</summary>
    public const string Joined = "joined";

    /// <summary>The member left the room with PART.</summary>
    public const string Left = "left";

    /// <summary>The member logged off or lost its connection. Seed 004: "Ira left the server."</summary>
    public const string Disconnected = "disconnected";
}
