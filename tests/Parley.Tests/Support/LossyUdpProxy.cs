using System.Net;

namespace Parley.Tests.Support;

/// <summary>
/// A loopback UDP relay that drops the 1st, (n+1)-th, (2n+1)-th… datagram of each direction, counted separately, so every
/// request and every reply is lost at least once and both the client's retransmission and the server's cached reply are used.
/// A <c>dropEvery</c> of 0 drops nothing; <see cref="Outage"/> drops everything while it is set, as a network that is down.
/// </summary>
internal sealed class LossyUdpProxy : IAsyncDisposable
{
    private readonly UdpRelay _relay;
    private readonly int _dropEvery;
    private int _upCount;
    private int _downCount;
    private int _dropped;
    private bool _outage;

    public LossyUdpProxy(IPEndPoint server, int dropEvery)
    {
        _dropEvery = dropEvery;
        _relay = new UdpRelay(server, d => Drop(ref _upCount) ? null : d, d => Drop(ref _downCount) ? null : d);
    }

    public int Port => _relay.Port;

    public int Dropped => Volatile.Read(ref _dropped);

    public ValueTask DisposeAsync() => _relay.DisposeAsync();

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
