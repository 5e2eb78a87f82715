using System.Text.Json;
using System.Text.RegularExpressions;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue #7 and seed 004 with the real executables: <c>parley server --log-level trace</c> and two <c>parley chat</c>
/// clients go through a seed-style scenario, and nothing the server printed — its log on stderr, text or JSON, and its
/// stdout — holds a message, a password, a stored secret or a long base64 or hex run, while every expected event is there.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class LogPrivacyScenarioTests
{
    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task A_seed_scenario_logged_at_trace_shows_every_event_and_no_content_or_secret(string format)
    {
        var run = Guid.NewGuid().ToString("N")[..10];
        var (room, chat, reply, dm) = ($"room-line-{run}", $"chat-line-{run}", $"chat-reply-{run}", $"dm-line-{run}");
        var (alicePassword, bobPassword, bobNewPassword, wrongPassword) = ($"pw-alice-{run}", $"pw-bob-{run}", $"pw-bob-new-{run}", $"pw-wrong-{run}");
        string[] markers = [room, chat, reply, dm, alicePassword, bobPassword, bobNewPassword, wrongPassword];

        await using var server = await ServerProcess.StartAsync("--log-level", "trace", "--log-format", format);
        await server.AddUserAsync("alice", alicePassword);
        await server.AddUserAsync("bob", bobPassword);

        // A failed log-on, then both log on into seed 004's room.
        await using (var guesser = await server.StartClientAsync("alice", wrongPassword, "--room=none"))
        {
            await guesser.SendLineAsync("Log on");
            await guesser.ExpectLineAsync("Log-on failed: unknown client ID or wrong password.");
        }

        await using var alice = await server.StartClientAsync("alice", alicePassword);
        await alice.SendLineAsync("Log on");
        await alice.ExpectLineAsync("Connected");
        await using var bob = await server.StartClientAsync("bob", bobPassword);
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await alice.ExpectLineAsync("New person joined the room. Username: bob");

        // A room line, a seed 001 session both ways, a DM, and History.
        await alice.SendLineAsync(room);
        await bob.ExpectMessageAsync($"alice: {room}");
        await alice.SendLineAsync("Chat bob");
        await alice.ExpectLineAsync("Chat started");
        await bob.ExpectLineAsync("Chat started");
        await alice.SendLineAsync(chat);
        await bob.ExpectMessageAsync($"alice: {chat}");
        await bob.SendLineAsync(reply);
        await alice.ExpectMessageAsync($"bob: {reply}");
        await alice.SendLineAsync("End chat");
        await alice.ExpectLineAsync("Chat ended");
        await bob.ExpectLineAsync("Chat ended");
        await alice.SendLineAsync($"/dm bob {dm}");
        await alice.ExpectLineAsync("Message sent");
        await bob.ExpectMessageAsync($"[DM] alice: {dm}");
        await alice.SendLineAsync("History bob");
        await alice.WaitForLineAsync(l => l.EndsWith($"from: alice {chat}", StringComparison.Ordinal));
        await alice.WaitForLineAsync(l => l.EndsWith($"from: bob {reply}", StringComparison.Ordinal));
        await alice.ExpectLineAsync("End of history with bob (2 messages)");

        // Script mode: the line after /passwd is the new password.
        await bob.SendLineAsync("/passwd");
        await bob.SendLineAsync(bobNewPassword);
        await bob.ExpectLineAsync("Password changed");

        // Both log off; the server sees each leave.
        await alice.SendLineAsync("Log off");
        await alice.ExpectLineAsync("Logged off");
        await server.Process.WaitForStderrAsync(l => l.Contains("alice disconnected (logged off)", StringComparison.Ordinal));
        await bob.ExpectLineAsync("alice left the server.");
        await bob.SendLineAsync("Log off");
        await bob.ExpectLineAsync("Logged off");
        await server.Process.WaitForStderrAsync(l => l.Contains("bob disconnected (logged off)", StringComparison.Ordinal));
        await alice.SendLineAsync("/quit");
        await bob.SendLineAsync("/quit");
        Assert.Equal(0, await alice.WaitForExitAsync());
        Assert.Equal(0, await bob.WaitForExitAsync());
        Assert.Equal(0, await server.Process.TerminateAsync());

        var stderr = server.Process.Stderr.Split('\n');
        var stdout = server.Process.Lines;
        var messages = format == "json" ? stderr.Select(JsonMessage).ToList() : [.. stderr];
        if (format == "text")
        {
            // One line per event: every line starts as the console formatter starts an event.
            Assert.All(stderr, l => Assert.Matches(TextLine(), l));
        }

        foreach (var expected in new[]
        {
            "Log-on failed for a client ID from 127.0.0.1", "alice authenticated from 127.0.0.1", "alice connected", "bob connected",
            "alice published identity key ", "Chat session started between alice and bob", "said something in", "bob changed their password",
            "alice disconnected (logged off)", "bob disconnected (logged off)",
        })
        {
            Assert.True(messages.Any(m => m.Contains(expected, StringComparison.Ordinal)), $"no log line contains \"{expected}\"; stderr:\n{server.Process.Stderr}");
        }

        // The room event above is logged at Debug, so its presence shows the level took effect.
        Assert.True(stderr.Length >= 10, $"only {stderr.Length} lines on stderr");
        var (secrets, fingerprints) = LogScan.StoredValues(ParleyDatabase.Open(server.DataDirectory));
        Assert.Equal(2, fingerprints.Count);
        LogScan.AssertClean(stderr, markers, secrets, fingerprints, $"the server's stderr ({format})");
        LogScan.AssertClean(stdout, markers, secrets, fingerprints, "the server's stdout");
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\S* +(trce|dbug|info|warn|fail|crit): ")]
    private static partial Regex TextLine();

    /// <summary>One JSON object per line (issue #7, <c>--log-format json</c>): the line must parse; returns its message.</summary>
    private static string JsonMessage(string line)
    {
        using var json = JsonDocument.Parse(line);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        Assert.True(json.RootElement.TryGetProperty("LogLevel", out _), $"no LogLevel in: {line}");
        return json.RootElement.GetProperty("Message").GetString() ?? "";
    }
}
