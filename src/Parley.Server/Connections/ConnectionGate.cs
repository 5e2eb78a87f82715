using System.Net;

namespace Parley.Server.Connections;

/// <summary>
/// Counts the TCP connections that have not yet sent a valid CONNECT (issue #9: slowloris), server-wide and per source
/// address (IPv6 per /64, as the UDP rate limits count). The per-address cap keeps one host from taking every slot and
/// so locking everyone else out of logging on; the server-wide cap bounds what many hosts together can hold. Each
/// connection has only the connect timeout to get through, so a slot is never held for long.
/// </summary>
internal sealed class ConnectionGate(int maxTotal, int maxPerAddress)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _total;

    /// <summary>Takes a slot for a connection from <paramref name="address"/>; false when either cap is reached.</summary>
    public bool TryEnter(IPAddress address)
    {
        var key = Authentication.AddressRateLimiter.Key(address);
        lock (_gate)
        {
            var held = _perAddress.GetValueOrDefault(key);
            if (_total >= maxTotal || held >= maxPerAddress)
            {
                return false;
            }

            _perAddress[key] = held + 1;
            _total++;
            return true;
        }
    }

    /// <summary>Gives back the slot of a connection that has sent its CONNECT, or has ended without one.</summary>
    public void Exit(IPAddress address)
    {
        var key = Authentication.AddressRateLimiter.Key(address);
        lock (_gate)
        {
            _total--;
            if (_perAddress[key] == 1)
            {
                _perAddress.Remove(key);
            }
            else
            {
                _perAddress[key]--;
            }
        }
    }
}
