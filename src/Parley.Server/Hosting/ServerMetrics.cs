using System.Diagnostics.Metrics;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Server.Routing;
using Parley.Storage;

namespace Parley.Server.Hosting;

/// <summary>What became of one UDP handshake datagram (tag <c>result</c> of <c>parley.handshakes</c>).</summary>
internal enum HandshakeResult
{
    /// <summary>A HELLO answered with CHALLENGE.</summary>
    Challenged,

    /// <summary>A HELLO over its address's rate or open-handshake limit.</summary>
    RateLimited,

    /// <summary>A HELLO refused because the handshake table is full (SERVER_BUSY).</summary>
    Busy,

    /// <summary>A HELLO for a locked client ID (answered AUTH_FAIL, no challenge).</summary>
    Locked,

    /// <summary>A datagram that does not decode, a malformed HELLO, or a msgtype not accepted over UDP.</summary>
    Invalid,

    /// <summary>A RESPONSE to a challenge that expired, was never issued, or was answered with another proof.</summary>
    Stale,
}

/// <summary>How an evaluated log-on ended (tag <c>result</c> of <c>parley.logons</c>).</summary>
internal enum LogOnResult
{
    Ok,
    Failed,
    Locked,
}

/// <summary>Which road a message took (tag <c>kind</c> of <c>parley.messages.*</c>).</summary>
internal enum MessageKind
{
    Chat,
    Dm,
    Room,
}

/// <summary>
/// One server's instruments (issue #7), on a <see cref="Meter"/> named <c>Parley.Server</c> made by the host's
/// <see cref="IMeterFactory"/>: <c>dotnet-counters monitor --counters Parley.Server</c> reads it by name, and two
/// servers in one process (the tests) have two meter instances, so their counts stay apart. Tags take small fixed
/// value sets only (never a user ID or an address), each a static pair, so counting allocates nothing.
/// </summary>
internal sealed class ServerMetrics : IFrameMeter
{
    public const string MeterName = "Parley.Server";

    private static readonly KeyValuePair<string, object?>[] HandshakeTags = Tags("result", "challenged", "rate_limited", "busy", "locked", "invalid", "stale");
    private static readonly KeyValuePair<string, object?>[] LogOnTags = Tags("result", "ok", "failed", "locked");
    private static readonly KeyValuePair<string, object?>[] KindTags = Tags("kind", "chat", "dm", "room");

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _handshakes;
    private readonly Counter<long> _logOns;
    private readonly Counter<long> _sessionsStarted;
    private readonly Counter<long> _relayed;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _chatMessages;
    private readonly Counter<long> _chatBytes;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private ChatRouter? _router;

    public ServerMetrics(IMeterFactory meterFactory, HistoryWriter history)
    {
        Meter = meterFactory.Create(MeterName);
        _accepted = Meter.CreateCounter<long>("parley.connections.accepted", "{connection}", "TCP connections accepted on the chat port (before CONNECT)");
        Meter.CreateObservableUpDownCounter("parley.connections.open", () => Counts().Online, "{connection}", "Clients logged on over TCP now");
        _handshakes = Meter.CreateCounter<long>("parley.handshakes", "{datagram}", "UDP handshake datagrams by outcome");
        _logOns = Meter.CreateCounter<long>("parley.logons", "{logon}", "Log-ons evaluated, and HELLOs of locked IDs, by outcome");
        Meter.CreateObservableUpDownCounter("parley.sessions.active", () => Counts().Sessions, "{session}", "Chat sessions open now");
        _sessionsStarted = Meter.CreateCounter<long>("parley.sessions.started", "{session}", "Chat sessions started");
        _relayed = Meter.CreateCounter<long>("parley.messages.relayed", "{message}", "Messages put on a recipient's outbound queue (a room message once per member)");
        _stored = Meter.CreateCounter<long>("parley.messages.stored", "{message}", "Messages committed to history");
        _chatMessages = Meter.CreateCounter<long>("parley.chat.messages.received", "{message}", "Chat messages (CHAT, DM, SAY) received from clients");
        _chatBytes = Meter.CreateCounter<long>("parley.chat.bytes.received", "By", "UTF-8 bytes of the chat message bodies received from clients");
        _bytesReceived = Meter.CreateCounter<long>("parley.bytes.received", "By", "Bytes of whole frames read on the chat port, headers included");
        _bytesSent = Meter.CreateCounter<long>("parley.bytes.sent", "By", "Bytes of whole frames written on the chat port, headers included");
        Meter.CreateObservableGauge("parley.history.queue.depth", () => history.QueuedCount, "{item}",
            "Messages, receipts and barriers waiting for the history writer");
        Meter.CreateObservableGauge("parley.outbound.queue.depth", () => SumOverClients(static c => c.QueuedCount), "{message}",
            "Messages waiting in the outbound queues of all logged-on clients");
        Meter.CreateObservableGauge("parley.outbound.pending.bytes", () => SumOverClients(static c => c.PendingBytes), "By",
            "Bytes waiting to be sent to all logged-on clients: queued messages (estimated) and unflushed writes");
    }

    /// <summary>This server's meter; the Prometheus exporter listens to this instance only.</summary>
    public Meter Meter { get; }

    /// <summary>The router the observable instruments read at collection time; set once it is built (it counts sessions here).</summary>
    public void Observe(ChatRouter router) => Volatile.Write(ref _router, router);

    public void Accepted() => _accepted.Add(1);

    public void Handshake(HandshakeResult result) => _handshakes.Add(1, HandshakeTags[(int)result]);

    public void LogOn(LogOnResult result) => _logOns.Add(1, LogOnTags[(int)result]);

    public void SessionStarted() => _sessionsStarted.Add(1);

    public void Relayed(MessageKind kind, int count = 1)
    {
        if (count > 0)
        {
            _relayed.Add(count, KindTags[(int)kind]);
        }
    }

    public void Stored(MessageKind kind) => _stored.Add(1, KindTags[(int)kind]);

    /// <summary>Counts <paramref name="message"/> if it carries chat content; everything else (PING, LIST…) is not chat.</summary>
    public void Received(ParleyMessage message)
    {
        var body = message switch
        {
            Chat chat => chat.Message,
            Dm dm => dm.Message,
            Say say => say.Message,
            _ => null,
        };
        if (body is not null)
        {
            _chatMessages.Add(1);
            _chatBytes.Add(System.Text.Encoding.UTF8.GetByteCount(body));
        }
    }

    public void FrameRead(int bytes) => _bytesReceived.Add(bytes);

    public void FrameWritten(int bytes) => _bytesSent.Add(bytes);

    private (int Online, int Sessions) Counts() => Volatile.Read(ref _router)?.Counts() ?? default;

    /// <summary>Walks the online clients at collection time (scrape rate), so the send path keeps no shared total.</summary>
    private long SumOverClients(Func<Connections.ClientConnection, long> measure)
    {
        long total = 0;
        foreach (var client in Volatile.Read(ref _router)?.Snapshot() ?? [])
        {
            total += measure(client);
        }

        return total;
    }

    private static KeyValuePair<string, object?>[] Tags(string key, params string[] values) =>
        [.. values.Select(v => new KeyValuePair<string, object?>(key, v))];
}
