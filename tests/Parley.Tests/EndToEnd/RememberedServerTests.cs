using System.Text.Json;
using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>Issue 7: <c>parley chat</c> remembers the last server and user, so the next run needs neither.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class RememberedServerTests
{
    [Fact]
    public async Task A_chat_started_with_only_the_state_directory_logs_on_to_the_last_server_as_the_last_user()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await server.AddUserAsync("bob", "bob-password");
        var state = Path.Combine(server.DataDirectory, "alices-machine");

        // The first run names everything (StartClientAsync passes --user, --host and --port).
        await using (var first = await server.StartClientAsync("alice", "alice-password", "--room=none", "--state-dir", state))
        {
            await first.SendLineAsync("Log on");
            await first.ExpectLineAsync("Connected");
            await first.SendLineAsync("/quit");
            Assert.Equal(0, await first.WaitForExitAsync());
            Assert.Equal("", first.Stderr);
        }

        using (var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(state, "client.json"))))
        {
            Assert.Equal(("127.0.0.1", server.UdpPort, "alice"), (json.RootElement.GetProperty("host").GetString(),
                json.RootElement.GetProperty("port").GetInt32(), json.RootElement.GetProperty("user").GetString()));
        }

        // The next names nothing: without the remembered values it would ask "Which client ID?" (no --user), or find
        // no server on the default port 5300. Nothing is printed about them.
        await using var again = ParleyProcess.Start("alice again", "chat", "--state-dir", state, "--password-stdin", "--listen-port", "0", "--room=none");
        await again.SendLineAsync("alice-password");
        await again.SendLineAsync("Log on");
        await again.ExpectLineAsync("Connected");
        await again.SendLineAsync("/list");
        await again.ExpectLineAsync("Users (1 online, 2 listed):");
        await again.ExpectLineAsync("  alice  online");
        await again.ExpectLineAsync("  bob    offline");
        Assert.Equal("", again.Stderr);
    }
}
