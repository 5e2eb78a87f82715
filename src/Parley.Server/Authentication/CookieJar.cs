using System.Collections.Concurrent;
using System.Security.Cryptography;
using Parley.Protocol.Security;

namespace Parley.Server.Authentication;

/// <summary>Record keys for one authenticated log-on, handed from the UDP handshake to the TCP connection, with the credential generation they were proved against.</summary>
internal sealed record SessionKeys(string ClientId, long Generation, DirectionKeys ClientToServer, DirectionKeys ServerToClient);

/// <summary>
/// rand_cookies (seed 001 step 3): 256 random bits, single-use (removed on the first CONNECT that names them,
/// right or wrong), bound to the client ID they were issued to, and void after <see cref="ParleyServerOptions.CookieLifetime"/>.
/// </summary>
internal sealed class CookieJar(TimeProvider time, TimeSpan lifetime)
{
    private readonly ConcurrentDictionary<string, (SessionKeys Keys, long IssuedAt)> _cookies = new(StringComparer.Ordinal);

    public int Count => _cookies.Count;

    public string Issue(SessionKeys keys)
    {
        var cookie = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        _cookies[cookie] = (keys, time.GetTimestamp());
        return cookie;
    }

    public SessionKeys? TryRedeem(string clientId, string cookie)
    {
        if (!_cookies.TryRemove(cookie, out var issued))
        {
            return null;
        }

        var fresh = time.GetElapsedTime(issued.IssuedAt) < lifetime;
        var sameUser = string.Equals(issued.Keys.ClientId, clientId, StringComparison.OrdinalIgnoreCase);
        return fresh && sameUser ? issued.Keys : null;
    }

    public void RemoveExpired()
    {
        foreach (var (cookie, issued) in _cookies)
        {
            if (time.GetElapsedTime(issued.IssuedAt) >= lifetime)
            {
                _cookies.TryRemove(cookie, out _);
            }
        }
    }
}
