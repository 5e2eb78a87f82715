using System.Net;
using System.Net.Sockets;

namespace Parley.Tests.Support;

/// <summary>
/// A loopback UDP relay between one client (whoever sent to it last) and a server. Each datagram passes through the
/// filter of its direction, which returns what to forward, or null to drop it: the network an attacker, or bad luck, controls.
/// </summary>
internal sealed class UdpRelay : IAsyncDisposable
{
    private readonly Socket _front = RawWire.UdpSocket();
    private readonly Socket _back = RawWire.UdpSocket();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _up;
    private readonly Task _down;
    private EndPoint? _client;

    public UdpRelay(IPEndPoint server, Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>?> up, Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>?> down)
    {
        _up = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            while (!_stop.IsCancellationRequested)
            {
                var r = await _front.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                Volatile.Write(ref _client, r.RemoteEndPoint);
                if (up(buffer.AsMemory(0, r.ReceivedBytes)) is { } forward)
                {
                    await _back.SendToAsync(forward, server, _stop.Token);
                }
            }
        });
        _down = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            while (!_stop.IsCancellationRequested)
            {
                var r = await _back.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                if (down(buffer.AsMemory(0, r.ReceivedBytes)) is { } forward && Volatile.Read(ref _client) is { } client)
                {
                    await _front.SendToAsync(forward, client, _stop.Token);
                }
            }
        });
    }

    /// <summary>Where clients send: the relay's loopback port.</summary>
    public int Port => ((IPEndPoint)_front.LocalEndPoint!).Port;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _front.Dispose();
        _back.Dispose();
        await Task.WhenAll(_up, _down).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }
}
