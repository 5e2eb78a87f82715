using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
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
    private readonly ConnectionContext _context;
    private readonly MessageChannel _channel;
    private readonly ChatRouter _router;
    private readonly ParleyServerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<ParleyMessage> _outbound;
    private readonly CancellationTokenSource _closing = new();
    private string? _closeReason;
    private long _lastReceived = Environment.TickCount64;
    private long _lastActivity = Environment.TickCount64;

    public ClientConnection(string clientId, ConnectionContext context, MessageChannel channel, ChatRouter router,
        ParleyServerOptions options, ILogger logger)
    {
        ClientId = clientId;
        _context = context;
        _channel = channel;
        _router = router;
        _options = options;
        _logger = logger;
        _outbound = Channel.CreateBounded<ParleyMessage>(new BoundedChannelOptions(options.OutboundQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; EnqueueAsync waits.
        });
    }

    /// <summary>The subscriber's ID as stored (its canonical letter case).</summary>
    public string ClientId { get; }

    public string ConnectionId => _context.ConnectionId;

    /// <summary>The chat session this client is in; read and written only under the router's lock.</summary>
    internal ChatSession? Session { get; set; }

    /// <summary>The session this client ended or saw ended last, so a crossing END_REQUEST is not an error.</summary>
    internal string? LastEndedSessionId { get; set; }

    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Queues a message without waiting. A client whose queue is full is too slow to keep and is closed.</summary>
    public bool TryEnqueue(ParleyMessage message)
    {
        if (_outbound.Writer.TryWrite(message))
        {
            return true;
        }

        Close("outbound queue full");
        return false;
    }

    /// <summary>Queues with backpressure, for replies this client asked for (history pages).</summary>
    public ValueTask EnqueueAsync(ParleyMessage message, CancellationToken cancellationToken) =>
        _outbound.Writer.WriteAsync(message, cancellationToken);

    /// <summary>Ends the connection once; later calls change nothing. Safe from any thread, never blocks.</summary>
    public void Close(string reason, Error? notice = null)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null)
        {
            return;
        }

        if (notice is not null)
        {
            _outbound.Writer.TryWrite(notice);
        }

        _closing.Cancel();
    }

    /// <summary>Called by the maintenance loop: enforces the activity timer and the keep-alive deadline.</summary>
    public void CheckIdle(long now)
    {
        if (now - Volatile.Read(ref _lastActivity) > (long)_options.ActivityTimeout.TotalMilliseconds)
        {
            Close("activity timeout", new Error(ErrorCodes.IdleTimeout,
                $"No activity for {(int)_options.ActivityTimeout.TotalSeconds} seconds; you have been logged off."));
        }
        else if (now - Volatile.Read(ref _lastReceived) > 3 * (long)_options.KeepAliveInterval.TotalMilliseconds)
        {
            Close("keep-alive missed");
        }
    }

    /// <summary>Runs both loops until the connection ends, then leaves the router (ending any session).</summary>
    public async Task RunAsync()
    {
        var sending = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        finally
        {
            Close("connection ended");
            _router.Leave(this);
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

    private async Task SendLoopAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var message))
                {
                    _channel.Write(message);
                }

                await _channel.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ConnectionAbortedException or OperationCanceledException)
        {
            Close("send failed");
        }
    }
}
