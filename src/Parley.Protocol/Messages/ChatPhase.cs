namespace Parley.Protocol.Messages;

// Chat phase, seed 001 "Client A Initiates Chat Session to B" and "Chat History". All over the protected TCP link.

/// <summary>Client → server. Seed: CHAT_REQUEST(Client-ID-B).</summary>
public sealed record ChatRequest(string ClientId) : ParleyMessage;

/// <summary>Server → both clients. Seed: CHAT_STARTED(session-ID, Client-ID of the peer).</summary>
public sealed record ChatStarted(string SessionId, string ClientId) : ParleyMessage;

/// <summary>Server → requester. Seed: UNREACHABLE(Client-ID-B): unknown, offline or already in a session.</summary>
public sealed record Unreachable(string ClientId) : ParleyMessage;

/// <summary>Client → server. Seed: END_REQUEST(session-ID).</summary>
public sealed record EndRequest(string SessionId) : ParleyMessage;

/// <summary>Server → the other party. Seed: END_NOTIF(session-ID). <c>Reason</c> is <see cref="EndReasons"/>.</summary>
public sealed record EndNotif(string SessionId, string Reason) : ParleyMessage;

/// <summary>
/// Seed: CHAT(session-ID, chat message). Client → server carries <c>SessionId</c> and <c>Message</c>; the server
/// relays it with <c>From</c> and <c>SentAt</c> (Unix milliseconds, the time it was stored) filled in.
/// The server treats <c>Message</c> as opaque text: it never parses it.
/// </summary>
public sealed record Chat(string SessionId, string Message, string? From = null, long? SentAt = null) : ParleyMessage;

/// <summary>Client → server. Seed: HISTORY_REQ(Client-ID-B).</summary>
public sealed record HistoryReq(string ClientId) : ParleyMessage;

/// <summary>
/// Server → requester, one per stored message, oldest first. Seed: HISTORY_RESP(Sending Client-ID, message).
/// <c>With</c> (issue #5) is the other party of the conversation asked for, so a client can check the recipient
/// of its own messages' end-to-end envelopes.
/// </summary>
public sealed record HistoryResp(string ClientId, string Message, string SessionId, long SentAt, string? With = null) : ParleyMessage;

/// <summary>Server → requester after the last <see cref="HistoryResp"/>: the history with <c>ClientId</c> is complete.</summary>
public sealed record HistoryEnd(string ClientId, int Count) : ParleyMessage;

/// <summary>Values of <see cref="EndNotif.Reason"/>.</summary>
public static class EndReasons
{
    /// <summary>The other party sent END_REQUEST.</summary>
    public const string Ended = "ended";

    /// <summary>The other party logged off, timed out or lost its connection.</summary>
    public const string PeerLeft = "peer_left";

    /// <summary>The server is shutting down (issue #7): both parties get END_NOTIF before the link closes.</summary>
    public const string ServerShutdown = "server_shutdown";
}
