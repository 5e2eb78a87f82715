using System.Net;
using System.Net.Sockets;

namespace Parley.Tests.Support;

/// <summary>
/// A loopback UDP relay that drops the 1st, (n+1)-th, (2n+1)-th… datagram of each direction, counted separately, so every
/// request and every reply is lost at least once and both the client's retransmission and the server's cached reply are used.
/// A <c>dropEvery</c> of 0 drops nothing; <see cref="Outage"/> drops everything while it is set, as a network that is down.
/// </summary>
internal sealed class LossyUdpProxy : IAsyncDisposable
{
    private readonly Socket _front = RawWire.UdpSocket();
    private readonly Socket _back = RawWire.UdpSocket();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _up;
    private readonly Task _down;
    private readonly int _dropEvery;
    private EndPoint? _client;
    private int _upCount;
    private int _downCount;
    private int _dropped;
    private bool _outage;

    public LossyUdpProxy(IPEndPoint server, int dropEvery)
    {
        _dropEvery = dropEvery;
        _up = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            while (!_stop.IsCancellationRequested)
            {
                var r = await _front.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                _client = r.RemoteEndPoint;
                if (!Drop(ref _upCount))
                {
                    await _back.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), server, _stop.Token);
                }
            }
        });
        _down = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            while (!_stop.IsCancellationRequested)
            {
                var r = await _back.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                if (!Drop(ref _downCount) && _client is not null)
                {
                    await _front.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), _client, _stop.Token);
                }
            }
        });
    }

    public int Port => ((IPEndPoint)_front.LocalEndPoint!).Port;

    public int Dropped => Volatile.Read(ref _dropped);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _front.Dispose();
        _back.Dispose();
        await Task.WhenAll(_up, _down).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public bool Outage
    {
        get => Volatile.Read(ref _outage);
        set => Volatile.Write(ref _outage, value);
    }

    private bool Drop(ref int counter)
    {
        if (!Outage && (_dropEvery == 0 || Interlocked.Increment(ref counter) % _dropEvery != 1))
        {
            return false;
        }

        Interlocked.Increment(ref _dropped);
        return true;
    }
}
