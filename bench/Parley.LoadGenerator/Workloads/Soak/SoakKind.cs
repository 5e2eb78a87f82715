namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// Every message a client sends over the protected TCP link (docs/PROTOCOL.md §5.1, "What the server accepts"), which
/// the soak must each send at least once. <see cref="DmAck"/>, <see cref="Read"/> and <see cref="KeysPut"/> answer
/// what the server sent; the others are chosen by a client's mix.
/// </summary>
internal enum SoakKind
{
    ChatRequest,
    Chat,
    EndRequest,
    Dm,
    DmAck,
    Talk,
    Read,
    HistoryReq,
    ListReq,
    Join,
    Say,
    Part,
    Rooms,
    KeysGet,
    KeysPut,
    Listen,
    LookupRequest,
    Ping,
    Passwd,
    LogOff,
}

internal static class SoakKinds
{
    public static readonly SoakKind[] All = Enum.GetValues<SoakKind>();

    /// <summary>The msgtype on the wire, as the report names it.</summary>
    public static string WireName(this SoakKind kind) => kind switch
    {
        SoakKind.ChatRequest => "CHAT_REQUEST",
        SoakKind.Chat => "CHAT",
        SoakKind.EndRequest => "END_REQUEST",
        SoakKind.Dm => "DM",
        SoakKind.DmAck => "DM_ACK",
        SoakKind.Talk => "TALK",
        SoakKind.Read => "READ",
        SoakKind.HistoryReq => "HISTORY_REQ",
        SoakKind.ListReq => "LIST_REQ",
        SoakKind.Join => "JOIN",
        SoakKind.Say => "SAY",
        SoakKind.Part => "PART",
        SoakKind.Rooms => "ROOMS",
        SoakKind.KeysGet => "KEYS_GET",
        SoakKind.KeysPut => "KEYS_PUT",
        SoakKind.Listen => "LISTEN",
        SoakKind.LookupRequest => "LOOKUP_REQUEST",
        SoakKind.Ping => "PING",
        SoakKind.Passwd => "PASSWD",
        SoakKind.LogOff => "LOG_OFF",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
