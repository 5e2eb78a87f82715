using Parley.Protocol.Messages;

namespace Parley.Server.Connections;

/// <summary>
/// What a queued message will cost once framed, estimated without serializing it (the send loop serializes each
/// message once, straight into the socket's pipe). The estimate is the length of its variable parts — the text of a
/// CHAT, DM, SAY, history line or notice, or the entries of a list — plus a fixed allowance for the JSON around them,
/// the frame header and the record's tag. End-to-end bodies are base64, one byte per character, so for the messages
/// that fill a slow client's queue (issue #9) the estimate is close; a room line of non-ASCII text is undercounted by
/// at most its UTF-8 expansion.
/// </summary>
internal static class OutboundSize
{
    /// <summary>Field names, IDs, numbers, frame header and GCM tag of any message (the longest fixed part is under 250 bytes).</summary>
    internal const int Overhead = 256;

    public static int Estimate(ParleyMessage message) => Overhead + message switch
    {
        Chat c => c.Message.Length + c.SessionId.Length,
        Dm d => d.Message.Length + (d.Id?.Length ?? 0),
        HistoryResp h => h.Message.Length + h.SessionId.Length,
        Say s => s.Message.Length + s.Room.Length,
        Notice n => n.Text.Length,
        Error e => e.Text.Length,

        // The per-entry sizes are the same bounds ParleyServerOptions uses to fit these lists in one frame.
        ListResp l => 64 * l.Users.Count,
        RoomList r => 80 * r.Rooms.Length,
        Keys k => 450 * k.Published.Length + (k.Backup?.Sealed.Length ?? 0),
        Connected c => 64 * (c.Unread?.Length ?? 0),
        _ => 0,
    };
}
