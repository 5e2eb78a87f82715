using System.Net;
using System.Net.Sockets;

namespace Parley.Server.Authentication;

/// <summary>
/// A token bucket per source address (issue #3: one host must not scan IDs or mass-register). Each address may
/// spend <c>capacity</c> tokens at once, refilled evenly over <c>period</c>. IPv6 addresses count per /64, since one
/// host usually owns a whole /64. The table is bounded: full buckets are forgotten by <see cref="RemoveIdle"/>, and
/// while it is full new addresses are refused rather than let memory grow.
/// </summary>
internal sealed class AddressRateLimiter(int capacity, TimeSpan period, int maxAddresses, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, Bucket> _buckets = [];

    /// <summary>Spends one token for <paramref name="address"/>; when none is left, returns false and how long until one is.</summary>
    public bool TryAcquire(IPAddress address, out TimeSpan retryAfter)
    {
        var key = Key(address);
        var now = time.GetTimestamp();
        lock (_gate)
        {
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                if (_buckets.Count >= maxAddresses)
                {
                    retryAfter = TimeSpan.FromSeconds(period.TotalSeconds / capacity);
                    return false;
                }

                bucket = new Bucket { Tokens = capacity, Updated = now };
                _buckets.Add(key, bucket);
            }

            Refill(bucket, now);
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }

            retryAfter = TimeSpan.FromSeconds((1 - bucket.Tokens) * period.TotalSeconds / capacity);
            return false;
        }
    }

    /// <summary>Forgets addresses whose bucket has refilled: they are indistinguishable from new ones.</summary>
    public void RemoveIdle()
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            foreach (var (key, bucket) in _buckets)
            {
                Refill(bucket, now);
                if (bucket.Tokens >= capacity)
                {
                    _buckets.Remove(key);
                }
            }
        }
    }

    private void Refill(Bucket bucket, long now)
    {
        var elapsed = time.GetElapsedTime(bucket.Updated, now);
        bucket.Tokens = Math.Min(capacity, bucket.Tokens + (elapsed.TotalSeconds * capacity / period.TotalSeconds));
        bucket.Updated = now;
    }

    /// <summary>The address a limit counts <paramref name="address"/> under: IPv4 as is (mapped ones unmapped), IPv6 by its /64.</summary>
    internal static IPAddress Key(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    private sealed class Bucket
    {
        public double Tokens { get; set; }

        public long Updated { get; set; }
    }
}
