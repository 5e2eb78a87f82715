using Parley.Protocol.Messages;

namespace Parley.Server.Connections;

/// <summary>
/// What a queued message will cost once framed, estimated without serializing it (the send loop serializes each
/// message once, straight into the socket's pipe). The estimate is the JSON size of its variable parts — the text of a
/// CHAT, DM, SAY, history line or notice, or the entries of a list — plus a fixed allowance for the JSON around them,
/// the frame header and the record's tag. A character the serializer escapes (System.Text.Json's default encoder
/// writes non-ASCII, control, HTML-sensitive characters and <c>+</c> as <c>\uXXXX</c>) counts six bytes, so the
/// estimate is never below the frame: PROTOCOL §8.1 sizes max-message-bytes for the same worst case.
/// </summary>
internal static class OutboundSize
{
    /// <summary>Field names, IDs, numbers, frame header and GCM tag of any message (the longest fixed part is under 250 bytes).</summary>
    internal const int Overhead = 256;

    public static int Estimate(ParleyMessage message) => Overhead + message switch
    {
        Chat c => Text(c.Message) + c.SessionId.Length,
        Dm d => Text(d.Message) + Text(d.Id),
        HistoryResp h => Text(h.Message) + h.SessionId.Length,
        Say s => Text(s.Message) + s.Room.Length,
        Notice n => Text(n.Text),
        Error e => Text(e.Text),

        // The per-entry sizes are the same bounds ParleyServerOptions uses to fit these lists in one frame.
        ListResp l => 64 * l.Users.Count,
        RoomList r => 80 * r.Rooms.Length,
        Keys k => 450 * k.Published.Length + (k.Backup?.Sealed.Length ?? 0),
        Connected c => 64 * (c.Unread?.Length ?? 0),
        _ => 0,
    };

    /// <summary>Bytes of <paramref name="text"/> as a JSON string body: one per plain ASCII character, six per escaped one.</summary>
    private static int Text(string? text)
    {
        if (text is null)
        {
            return 0;
        }

        var bytes = text.Length;
        foreach (var c in text)
        {
            if (c is < ' ' or > '~' or '"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`')
            {
                bytes += 5;
            }
        }

        return bytes;
    }
}
