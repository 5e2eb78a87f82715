using Parley.Protocol.Messages;

namespace Parley.Tests.Support;

internal static class Healthy
{
    /// <summary>Proof that the server still serves everyone else: two fresh users log on and chat both ways.</summary>
    public static async Task AssertServesAsync(InProcessServer server)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string a = "ok-a-" + suffix, b = "ok-b-" + suffix;
        await using var first = await server.AddAndLogOnAsync(a);
        await using var second = await server.AddAndLogOnAsync(b);
        var session = await first.StartChatWithAsync(second, b);
        await first.SendAsync(new Chat(session, "ping"));
        Assert.Equal("ping", (await second.ExpectAsync<Chat>()).Message);
        await second.SendAsync(new Chat(session, "pong"));
        Assert.Equal("pong", (await first.ExpectAsync<Chat>()).Message);
    }
}
