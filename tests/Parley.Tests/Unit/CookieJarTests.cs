using System.Security.Cryptography;
using Parley.Protocol.Security;
using Parley.Server.Authentication;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

public sealed class CookieJarTests
{
    private static SessionKeys KeysFor(string id)
    {
        var k = new DirectionKeys(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12));
        return new SessionKeys(id, 0, k, k);
    }

    [Fact]
    public void A_cookie_redeems_once()
    {
        var jar = new CookieJar(new ManualTimeProvider(), TimeSpan.FromSeconds(10));
        var cookie = jar.Issue(KeysFor("alice"));
        Assert.NotNull(jar.TryRedeem("alice", cookie));
        Assert.Null(jar.TryRedeem("alice", cookie));
    }

    [Fact]
    public void A_cookie_is_bound_to_its_user_and_burned_by_a_wrong_one()
    {
        var jar = new CookieJar(new ManualTimeProvider(), TimeSpan.FromSeconds(10));
        var cookie = jar.Issue(KeysFor("alice"));
        Assert.Null(jar.TryRedeem("mallory", cookie));
        Assert.Null(jar.TryRedeem("alice", cookie));
    }

    [Fact]
    public void The_user_match_ignores_letter_case()
    {
        var jar = new CookieJar(new ManualTimeProvider(), TimeSpan.FromSeconds(10));
        Assert.NotNull(jar.TryRedeem("ALICE", jar.Issue(KeysFor("alice"))));
    }

    [Fact]
    public void A_cookie_expires()
    {
        var time = new ManualTimeProvider();
        var jar = new CookieJar(time, TimeSpan.FromSeconds(10));
        var cookie = jar.Issue(KeysFor("alice"));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(jar.TryRedeem("alice", cookie));
    }

    [Fact]
    public void Expired_cookies_are_swept()
    {
        var time = new ManualTimeProvider();
        var jar = new CookieJar(time, TimeSpan.FromSeconds(10));
        jar.Issue(KeysFor("alice"));
        time.Advance(TimeSpan.FromSeconds(9));
        jar.RemoveExpired();
        Assert.Equal(1, jar.Count);
        time.Advance(TimeSpan.FromSeconds(1));
        jar.RemoveExpired();
        Assert.Equal(0, jar.Count);
    }

    [Fact]
    public void Cookies_are_unique_and_256_bits()
    {
        var jar = new CookieJar(new ManualTimeProvider(), TimeSpan.FromSeconds(10));
        var a = jar.Issue(KeysFor("alice"));
        var b = jar.Issue(KeysFor("alice"));
        Assert.NotEqual(a, b);
        Assert.Equal(32, Convert.FromBase64String(a).Length);
    }
}
