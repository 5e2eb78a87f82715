using Parley.Protocol.Messages;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>The rand_cookie of AUTH_SUCCESS: random, single-use, short-lived and bound to its user (issue #2).</summary>
public sealed class CookieTests
{
    [Fact]
    public async Task A_cookie_works_once()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        var ticket = await RawWire.AuthenticateAsync(server, "alice", "a");
        await using var first = await RawTcp.ConnectWithTicketAsync(server, ticket);

        await using var second = await RawTcp.ConnectAsync(server);
        await second.SendAsync(RawWire.PlainFrame(new Connect("alice", ticket.Cookie)));
        Assert.Equal(ErrorCodes.CookieInvalid, Assert.IsType<Error>(Assert.Single(await second.ExpectClosedAsync())).Code);
    }

    [Fact]
    public async Task A_cookie_issued_to_one_user_does_not_connect_another()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        server.AddUser("bob", "b");
        var ticket = await RawWire.AuthenticateAsync(server, "alice", "a");
        await using var raw = await RawTcp.ConnectAsync(server);
        await raw.SendAsync(RawWire.PlainFrame(new Connect("bob", ticket.Cookie)));
        Assert.Equal(ErrorCodes.CookieInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_cookie_expires()
    {
        var time = new ManualTimeProvider();
        await using var server = await InProcessServer.StartAsync(o => o with { CookieLifetime = TimeSpan.FromSeconds(10) }, time);
        server.AddUser("alice", "a");
        var ticket = await RawWire.AuthenticateAsync(server, "alice", "a");
        time.Advance(TimeSpan.FromSeconds(10));
        await using var raw = await RawTcp.ConnectAsync(server);
        await raw.SendAsync(RawWire.PlainFrame(new Connect("alice", ticket.Cookie)));
        Assert.Equal(ErrorCodes.CookieInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
    }

    [Fact]
    public async Task An_invented_cookie_is_refused()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using var raw = await RawTcp.ConnectAsync(server);
        await raw.SendAsync(RawWire.PlainFrame(new Connect("alice", Convert.ToBase64String(new byte[32]))));
        Assert.Equal(ErrorCodes.CookieInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        await Healthy.AssertServesAsync(server);
    }
}
