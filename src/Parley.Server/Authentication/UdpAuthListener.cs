using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Authentication;

/// <summary>
/// The UDP socket of the connection phase. A few receive loops share the socket (no thread per client); each
/// datagram is answered at once by <see cref="HandshakeService"/>. Oversized datagrams are dropped unanswered.
/// </summary>
internal sealed class UdpAuthListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly HandshakeService _handshakes;
    private readonly int _maxDatagramBytes;
    private readonly RefusalLog _refusals;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _loops;

    public UdpAuthListener(IPEndPoint endpoint, HandshakeService handshakes, int maxDatagramBytes, RefusalLog refusals, ILogger<UdpAuthListener> logger)
    {
        _refusals = refusals;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(endpoint);
        _handshakes = handshakes;
        _maxDatagramBytes = maxDatagramBytes;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loops = Enumerable.Range(0, Math.Clamp(Environment.ProcessorCount, 1, 4)).Select(_ => Task.Run(ReceiveLoopAsync)).ToArray();
    }

    public IPEndPoint LocalEndPoint { get; }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        // One byte more than the limit, so an oversized datagram is recognised rather than silently truncated.
        var buffer = ArrayPool<byte>.Shared.Rent(_maxDatagramBytes + 1);
        EndPoint any = new IPEndPoint(LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await _socket.ReceiveFromAsync(buffer.AsMemory(0, _maxDatagramBytes + 1), SocketFlags.None, any, _stopping.Token).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
                {
                    continue; // ICMP port unreachable from an earlier reply, or a datagram too large: not fatal.
                }

                var source = (IPEndPoint)received.RemoteEndPoint;
                if (received.ReceivedBytes > _maxDatagramBytes)
                {
                    if (_refusals.Allow())
                    {
                        _logger.LogInformation("Dropped an oversized datagram from {Source}", source);
                    }

                    continue;
                }

                byte[]? reply;
                try
                {
                    reply = _handshakes.Handle(buffer.AsSpan(0, received.ReceivedBytes), source);
                }
                catch (Exception e)
                {
                    // A bug triggered by one datagram must not stop this loop from serving everyone else.
                    _logger.LogError(e, "Handling a datagram from {Source} failed", source);
                    continue;
                }

                if (reply is not null)
                {
                    try
                    {
                        await _socket.SendToAsync(reply, SocketFlags.None, source, _stopping.Token).ConfigureAwait(false);
                    }
                    catch (SocketException e)
                    {
                        _logger.LogInformation("Reply to {Source} not sent: {Error}", source, e.SocketErrorCode);
                    }
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || _stopping.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception e)
        {
            _logger.LogError(e, "UDP receive loop failed");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
