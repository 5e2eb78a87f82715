using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Server.Routing;

namespace Parley.Server.Connections;

/// <summary>
/// One logged-on client on the protected TCP link. Two loops, as in Kestrel's SocketConnection: the receive loop
/// decodes and dispatches (<c>ClientConnection.Dispatch.cs</c>), the send loop drains a bounded outbound queue and
/// flushes once per batch. One shutdown path (<see cref="Close"/>) records the first reason.
/// </summary>
internal sealed partial class ClientConnection
{
    /// <summary>The last words of a graceful shutdown (issue #7), whether the router or Kestrel's stop closes the link.</summary>
    internal static readonly Error ShuttingDownNotice = new(ErrorCodes.ShuttingDown, "The server is shutting down.");

    private readonly ConnectionContext _context;
    private readonly MessageChannel _channel;
    private readonly ChatRouter _router;
    private readonly Accounts.AccountService _accounts;
    private readonly Messaging.DirectMessages _direct;
    private readonly Messaging.RoomRegistry _rooms;
    private readonly Accounts.KeyDirectory _keys;
    private readonly Hosting.ServerMetrics _metrics;
    private readonly ParleyServerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Outbound> _outbound;
    private readonly CancellationTokenSource _closing = new();
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _abandonRequest = new();
    private readonly TokenBucket _rate; // every frame the client sends takes a token (ClientConnection.Dispatch.cs)
    private readonly TaskCompletionSource _readingStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _closeReason;
    private long _lastAlive = Environment.TickCount64;
    private long _lastActivity = Environment.TickCount64;
    private TaskCompletionSource _roomSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reserved;
    private long _pendingBytes;
    private int _receiptsOwed;
    private int _waitingForRoom;
    private long _generation;
    private int _listenPort;

    public ClientConnection(string clientId, long generation, ConnectionContext context, MessageChannel channel, ChatRouter router,
        Accounts.AccountService accounts, Messaging.DirectMessages direct, Messaging.RoomRegistry rooms, Accounts.KeyDirectory keys, Hosting.ServerMetrics metrics, ParleyServerOptions options, ILogger logger)
    {
        _keys = keys;
        _metrics = metrics;
        _direct = direct;
        _rooms = rooms;
        ClientId = clientId;
        _generation = generation;
        _accounts = accounts;
        _context = context;
        _channel = channel;
        _router = router;
        _options = options;
        _logger = logger;
        _rate = new TokenBucket(options.MessagesPerSecond, options.MessageBurst, Environment.TickCount64);
        _outbound = Channel.CreateBounded<Outbound>(new BoundedChannelOptions(options.OutboundQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full (TryEnqueue); ReplyAsync waits for room first.
        });
    }

    /// <summary>The subscriber's ID as stored (its canonical letter case).</summary>
    public string ClientId { get; }

    /// <summary>When this client's link was accepted, for the operator's <c>users</c> command.</summary>
    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Where this client's TCP link comes from, as the server sees it (for the operator, never sent to others).</summary>
    public System.Net.EndPoint? RemoteEndPoint => _context.RemoteEndPoint;

    /// <summary>Completes once the receive loop has finished the request in hand after <see cref="StopReading"/>, or has ended.</summary>
    public Task ReadingStopped => _readingStopped.Task;

    /// <summary>The credential generation this client proved (issue #3); a higher stored one means its password was reset.</summary>
    public long Generation
    {
        get => Interlocked.Read(ref _generation);
        set => Interlocked.Exchange(ref _generation, value);
    }

    /// <summary>The address this client logged on from, as the server sees it (seed 000: "the server remembers that user's IP address").</summary>
    public System.Net.IPAddress? RemoteAddress =>
        _context.RemoteEndPoint is System.Net.IPEndPoint { Address: var a } ? (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a) : null;

    /// <summary>The TCP port this client accepts direct calls on (issue #6, LISTEN); 0 for none.</summary>
    public int ListenPort
    {
        get => Volatile.Read(ref _listenPort);
        set => Volatile.Write(ref _listenPort, value);
    }

    /// <summary>The chat session this client is in; read and written only under the router's lock.</summary>
    internal ChatSession? Session { get; set; }

    /// <summary>The rooms this client is in (issue #4); read and written only under the room registry's lock.</summary>
    internal List<string> Rooms { get; } = [];

    /// <summary>The session this client ended or saw ended last, so a crossing END_REQUEST is not an error.</summary>
    internal string? LastEndedSessionId { get; set; }

    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Messages waiting in the outbound queue (the metrics' <c>parley.outbound.queue.depth</c>).</summary>
    public int QueuedCount => _outbound.Reader.Count;

    /// <summary>Estimated bytes queued for this client or written but not yet flushed to its socket (<see cref="ParleyServerOptions.MaxPendingOutboundBytes"/>).</summary>
    public long PendingBytes => Volatile.Read(ref _pendingBytes);

    /// <summary>Requests (this client's or others') waiting for room in this client's queue now; counted only while waiting.</summary>
    internal int WaitingForRoom => Volatile.Read(ref _waitingForRoom);

    /// <summary>
    /// Queues a message caused by someone else (a relayed CHAT, END_NOTIF, CHAT_STARTED) without waiting, so no
    /// one waits on this client. A client whose queue is full, in messages or in bytes, is too slow to keep: it is
    /// cut off at once, and its queue goes with it.
    /// </summary>
    public bool TryEnqueue(ParleyMessage message)
    {
        var size = OutboundSize.Estimate(message);
        if (Interlocked.Add(ref _pendingBytes, size) > _options.MaxPendingOutboundBytes)
        {
            Interlocked.Add(ref _pendingBytes, -size);
            if (CloseReason is null)
            {
                _logger.LogInformation("{ClientId} has {Bytes} bytes waiting to be sent; disconnected as too slow", ClientId, PendingBytes);
            }

            CutOff($"slow consumer: over {_options.MaxPendingOutboundBytes} bytes pending");
            return false;
        }

        if (_outbound.Writer.TryWrite(new Outbound(message, size)))
        {
            if (message is Dm)
            {
                Interlocked.Increment(ref _receiptsOwed);
            }

            return true;
        }

        Interlocked.Add(ref _pendingBytes, -size);
        CutOff($"outbound queue full: {_outbound.Reader.Count} queued, dropping a {message.GetType().Name}");
        return false;
    }

    /// <summary>
    /// Whether a DM_ACK or READ just received answers a DM this client was sent (issue #9): those are the client's
    /// duty, not its choice, so they do not count against its message rate while DMs it has not yet answered remain;
    /// otherwise two senders, each within their own rate, could get the recipient disconnected for acknowledging.
    /// </summary>
    internal bool TryTakeReceipt()
    {
        if (Interlocked.Decrement(ref _receiptsOwed) >= 0)
        {
            return true;
        }

        Interlocked.Increment(ref _receiptsOwed);
        return false;
    }

    /// <summary>
    /// Closes a client that cannot keep up, and drops its link now: there is no last word to wait for. A connection
    /// already closing for another reason (a shutdown, a kick) is left to finish: its queue may hold the last words
    /// the server owes it, and the enqueue that failed was only refused because the queue is complete.
    /// </summary>
    private void CutOff(string reason)
    {
        if (TryClose(reason, notice: null))
        {
            _context.Abort(new ConnectionAbortedException(reason));
        }
    }

    /// <summary>
    /// Queues a reply to this client's own request (ERROR, PONG, UNREACHABLE, a history page), waiting while the
    /// queue is half full. The wait holds up only this client's receive loop — backpressure on the client that
    /// asked — and leaves the other half of the queue for messages from others, so neither a flood of requests nor
    /// a long history replay gets a client that is reading dropped as slow.
    /// </summary>
    public async ValueTask ReplyAsync(ParleyMessage message, CancellationToken cancellationToken)
    {
        await WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
        if (!TryEnqueue(message))
        {
            throw new ChannelClosedException();
        }
    }

    /// <summary>
    /// Called by a sender before its CHAT enters the history writer: waits until this client's queue, counting
    /// relays already on their way through the writer, is under half full, then reserves a place. Group commit
    /// relays a whole batch at once, so without this a fast sender could fill a healthy peer's queue between two
    /// turns of its send loop. A peer that has not made room within <see cref="ParleyServerOptions.SlowConsumerTimeout"/>
    /// has stopped reading: it is disconnected, which ends its session and frees the sender.
    /// </summary>
    public async ValueTask ReserveRelayAsync(int bytes, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.SlowConsumerTimeout);
        try
        {
            await WaitForRoomAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("{ClientId} has not drained its queue for {Seconds} s", ClientId, _options.SlowConsumerTimeout.TotalSeconds);
            CutOff("slow consumer");
        }

        Interlocked.Increment(ref _reserved);
        Interlocked.Add(ref _pendingBytes, bytes);
    }

    /// <summary>
    /// Delivers a relay whose place, and <paramref name="reservedBytes"/>, were reserved with <see cref="ReserveRelayAsync"/>:
    /// the reservation is exchanged for the message's own estimate.
    /// </summary>
    public bool TryEnqueueReserved(ParleyMessage message, int reservedBytes)
    {
        Interlocked.Decrement(ref _reserved);
        Interlocked.Add(ref _pendingBytes, -reservedBytes);
        return TryEnqueue(message);
    }

    /// <summary>Gives back a reservation whose message will not come (it failed to store), waking anyone waiting for room.</summary>
    public void ReleaseReservation(int reservedBytes)
    {
        Interlocked.Decrement(ref _reserved);
        Interlocked.Add(ref _pendingBytes, -reservedBytes);
        SignalRoom();
    }

    /// <summary>
    /// Graceful shutdown, first step: the receive loop takes no new request but finishes the one in hand (a CHAT is
    /// stored and relayed, a DM acknowledged); the link stays open for what the server still has to say.
    /// </summary>
    public void StopReading() => _stopReading.Cancel();

    /// <summary>Graceful shutdown, when a request outlives its share of the time: its waits are cancelled, its reply not sent.</summary>
    public void AbandonRequest() => _abandonRequest.Cancel();

    /// <summary>Ends the connection once; later calls change nothing. Safe from any thread, never blocks.</summary>
    public void Close(string reason, Error? notice = null) => TryClose(reason, notice);

    /// <summary><see cref="Close"/>; true for the call that closed the connection, false if it was already closing.</summary>
    private bool TryClose(string reason, Error? notice)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null)
        {
            return false;
        }

        if (notice is not null)
        {
            var size = OutboundSize.Estimate(notice);
            Interlocked.Add(ref _pendingBytes, size);
            if (!_outbound.Writer.TryWrite(new Outbound(notice, size)))
            {
                Interlocked.Add(ref _pendingBytes, -size);
            }
        }

        _closing.Cancel();
        Volatile.Read(ref _roomSignal).TrySetResult(); // wake anyone waiting for room: there will be none
        return true;
    }

    /// <summary>
    /// Called by the maintenance loop: enforces the activity timer (anything but PING counts) and the keep-alive
    /// deadline (anything received, or any completed flush, counts).
    /// </summary>
    public void CheckIdle(long now)
    {
        if (now - Volatile.Read(ref _lastActivity) > (long)_options.ActivityTimeout.TotalMilliseconds)
        {
            Close("activity timeout", new Error(ErrorCodes.IdleTimeout,
                $"No activity for {_options.ActivityTimeout.TotalSeconds:0.#} s; you have been logged off."));
        }
        else if (now - Volatile.Read(ref _lastAlive) > 3 * (long)_options.KeepAliveInterval.TotalMilliseconds)
        {
            Close("keep-alive missed");
        }
    }

    /// <summary>Runs both loops until the connection ends, then leaves the router (ending any session).</summary>
    public async Task RunAsync()
    {
        // Server shutdown: Kestrel's stop asks every connection to close through this feature, late joiners included.
        using var shutdown = _context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested.Register(
            () => Close("server shutting down", ShuttingDownNotice));
        var sending = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        finally
        {
            Close("connection ended");
            await _router.LeaveAsync(this).ConfigureAwait(false);
            _rooms.LeaveAll(this);
            _outbound.Writer.TryComplete();

            // Give the send loop a moment to deliver a final ERROR; a peer that will not read is cut off.
            if (await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) != sending)
            {
                _context.Abort(new ConnectionAbortedException("Send loop did not drain."));
            }

            // _closing is not disposed: Close may still be running on another thread, and a CTS without timers holds nothing.
            await sending.ConfigureAwait(false);
            _logger.LogInformation("{ClientId} disconnected ({Reason})", ClientId, CloseReason);
        }
    }

    /// <summary>Wakes every <see cref="WaitForRoomAsync"/> to look again (after a flush or a released reservation).</summary>
    private void SignalRoom() =>
        Interlocked.Exchange(ref _roomSignal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Read the signal before the count: a flush between the two completes the signal we hold.
            var flushed = Volatile.Read(ref _roomSignal);
            if ((_outbound.Reader.Count + Volatile.Read(ref _reserved) < _options.OutboundQueueCapacity / 2
                    && Volatile.Read(ref _pendingBytes) < _options.MaxPendingOutboundBytes / 2) || CloseReason is not null)
            {
                return;
            }

            Interlocked.Increment(ref _waitingForRoom);
            try
            {
                await flushed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waitingForRoom);
            }
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // A batch's bytes stay pending until its flush completes: a peer that stops reading holds the flush
                // (the pipe pauses), so what sits in the pipe keeps counting against its limit.
                long batchBytes = 0;
                while (reader.TryRead(out var entry))
                {
                    var message = entry.Message;
                    batchBytes += entry.Bytes;
                    try
                    {
                        _channel.Write(message);
                    }
                    catch (ProtocolException e)
                    {
                        // Cannot happen within validated limits; if it does, this client misses one message, not all.
                        _logger.LogError(e, "A {Type} for {ClientId} did not fit in a frame", message.GetType().Name, ClientId);
                    }
                }

                await _channel.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                Interlocked.Add(ref _pendingBytes, -batchBytes);

                // A completed flush means the link still takes data, so the client counts as alive even while its
                // PINGs wait unread behind a long history replay. A dead peer stops this once its buffers are full.
                Volatile.Write(ref _lastAlive, Environment.TickCount64);
                SignalRoom();
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ConnectionAbortedException or OperationCanceledException)
        {
            Close("send failed");
        }
    }

    /// <summary>A queued message and the bytes it was counted at (<see cref="OutboundSize"/>), given back once it is flushed.</summary>
    private readonly record struct Outbound(ParleyMessage Message, int Bytes);
}
