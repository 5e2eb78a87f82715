using System.Text.RegularExpressions;
using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Seed 001's "Validation Scenarios", each run with real <c>parley server</c> and <c>parley chat</c> processes over
/// loopback. Every client's whole transcript is compared, so what each one received — and did not — is checked.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class SeedScenarioTests
{
    [Fact]
    public async Task Basic_chat_initiated_and_closed_by_A()
    {
        await using var pair = await AliceAndBob.StartAsync();
        var (server, a, b) = pair;

        await BasicChatStepsOneToFourAsync(a, b);

        await EndChatByAAsync(a, b);

        // 6: A types "Log off": A closes the TCP connection.
        await a.SendLineAsync("Log off");
        await a.ExpectLineAsync("Logged off");
        await server.Process.WaitForStderrAsync(l => l.Contains("alice disconnected (logged off)", StringComparison.Ordinal));
        await b.ExpectLineAsync("alice left the server.");

        // Both are in seed 004's room, so each also sees the other arrive or leave.
        Assert.Equal(["Connected", "New person joined the room. Username: bob", "Chat started", "bob: Hi Alice", "Chat ended", "Logged off"], a.Transcript);
        Assert.Equal(["Connected", "Chat started", "alice: Hello Bob", "Chat ended", "alice left the server."], b.Transcript);
    }

    [Fact]
    public async Task Basic_chat_initiated_by_A_and_closed_by_B()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await server.AddUserAsync("bob", "bob-password");
        await using var a = await server.StartClientAsync("alice", "alice-password");
        await a.SendLineAsync("Log on");
        await a.ExpectLineAsync("Connected");

        // 1: B is off line, so the request is answered UNREACHABLE.
        await a.SendLineAsync("Chat bob");
        await a.ExpectLineAsync("Correspondent unreachable");

        // 2–3: B logs on; A's second request starts the chat at both.
        await using var b = await server.StartClientAsync("bob", "bob-password");
        await b.SendLineAsync("Log on");
        await b.ExpectLineAsync("Connected");
        await a.ExpectLineAsync("New person joined the room. Username: bob");
        await a.SendLineAsync("Chat bob");
        await a.ExpectLineAsync("Chat started");
        await b.ExpectLineAsync("Chat started");

        // 4: exchange.
        await a.SendLineAsync("Hello Bob");
        await b.ExpectMessageAsync("alice: Hello Bob");
        await b.SendLineAsync("Hi Alice");
        await a.ExpectMessageAsync("bob: Hi Alice");

        // 5: B types "End chat": B displays "Chat ended"; A receives END_NOTIF and displays "Chat ended".
        await b.SendLineAsync("End chat");
        await b.ExpectLineAsync("Chat ended");
        await a.ExpectLineAsync("Chat ended");

        // 6: A logs off.
        await a.SendLineAsync("Log off");
        await a.ExpectLineAsync("Logged off");
        await server.Process.WaitForStderrAsync(l => l.Contains("alice disconnected (logged off)", StringComparison.Ordinal));
        await b.ExpectLineAsync("alice left the server.");

        Assert.Equal(["Connected", "Correspondent unreachable", "New person joined the room. Username: bob", "Chat started", "bob: Hi Alice", "Chat ended", "Logged off"],
            a.Transcript);
        Assert.Equal(["Connected", "Chat started", "alice: Hello Bob", "Chat ended", "alice left the server."], b.Transcript);
    }

    [Fact]
    public async Task Basic_chat_initiated_by_C_but_B_is_already_in_another_chat()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await server.AddUserAsync("bob", "bob-password");
        await server.AddUserAsync("carol", "carol-password");
        await using var a = await server.StartClientAsync("alice", "alice-password");
        await using var b = await server.StartClientAsync("bob", "bob-password");
        await BasicChatStepsOneToFourAsync(a, b);

        await using var c = await server.StartClientAsync("carol", "carol-password");
        await c.SendLineAsync("Log on");
        await c.ExpectLineAsync("Connected");
        await c.SendLineAsync("Chat bob");
        await c.ExpectLineAsync("Correspondent unreachable");
        await a.ExpectLineAsync("New person joined the room. Username: carol");
        await b.ExpectLineAsync("New person joined the room. Username: carol");

        // A and B are still chatting, undisturbed.
        await a.SendLineAsync("still here?");
        await b.ExpectMessageAsync("alice: still here?");
        Assert.Equal(["Connected", "Correspondent unreachable"], c.Transcript);
        Assert.Equal(["Connected", "New person joined the room. Username: bob", "Chat started", "bob: Hi Alice", "New person joined the room. Username: carol"], a.Transcript);
        Assert.Equal(["Connected", "Chat started", "alice: Hello Bob", "New person joined the room. Username: carol", "alice: still here?"], b.Transcript);
    }

    [Fact]
    public async Task History_recall()
    {
        await using var pair = await AliceAndBob.StartAsync();
        var (server, a, b) = pair;

        // 0: the steps of "Basic chat initiated and closed by A" (B logs off too, so that step 1 can log it on).
        await BasicChatStepsOneToFourAsync(a, b);
        await EndChatByAAsync(a, b);
        await a.SendLineAsync("Log off");
        await a.ExpectLineAsync("Logged off");
        await b.ExpectLineAsync("alice left the server.");
        await b.SendLineAsync("Log off");
        await b.ExpectLineAsync("Logged off");

        // 1: B logs on.
        await b.SendLineAsync("Log on");
        await b.ExpectLineAsync("Connected");

        // 2: A (logged on again) asks for the history with B and receives every message of that session.
        await a.SendLineAsync("Log on");
        await a.ExpectLineAsync("Connected");
        await b.ExpectLineAsync("New person joined the room. Username: alice");
        await a.SendLineAsync("History bob");
        var first = await a.ExpectLineAsync(HistoryLine());
        var second = await a.ExpectLineAsync(HistoryLine());
        await a.ExpectLineAsync("End of history with bob (2 messages)");
        Assert.Equal(("alice", "Hello Bob"), (first.Groups["from"].Value, first.Groups["text"].Value));
        Assert.Equal(("bob", "Hi Alice"), (second.Groups["from"].Value, second.Groups["text"].Value));
        Assert.Equal(first.Groups["session"].Value, second.Groups["session"].Value);
    }

    [Fact]
    public async Task Simultaneous_chat_sessions()
    {
        const int Pairs = 5;
        await using var server = await ServerProcess.StartAsync();
        for (var i = 0; i < Pairs; i++)
        {
            await server.AddUserAsync($"left{i}", $"password-l{i}");
            await server.AddUserAsync($"right{i}", $"password-r{i}");
        }

        var clients = new List<(ParleyProcess Left, ParleyProcess Right)>();
        try
        {
            for (var i = 0; i < Pairs; i++)
            {
                // Out of the room: ten clients' join notices would interleave unpredictably; this scenario is about sessions.
                clients.Add((await server.StartClientAsync($"left{i}", $"password-l{i}", "--room", "none"),
                    await server.StartClientAsync($"right{i}", $"password-r{i}", "--room", "none")));
            }

            // All five pairs log on, start their chat and talk at the same time.
            await Task.WhenAll(clients.Select((pair, i) => RunPairAsync(pair.Left, pair.Right, i)));

            for (var i = 0; i < Pairs; i++)
            {
                Assert.Equal(["Connected", "Chat started", $"right{i}: reply from right{i}", "Chat ended"], clients[i].Left.Transcript);
                Assert.Equal(["Connected", "Chat started", $"left{i}: hello from left{i}", $"left{i}: second from left{i}", "Chat ended"], clients[i].Right.Transcript);
            }
        }
        finally
        {
            foreach (var (left, right) in clients)
            {
                await left.DisposeAsync();
                await right.DisposeAsync();
            }
        }

        static async Task RunPairAsync(ParleyProcess left, ParleyProcess right, int i)
        {
            await Task.WhenAll(left.SendLineAsync("Log on"), right.SendLineAsync("Log on"));
            await left.ExpectLineAsync("Connected");
            await right.ExpectLineAsync("Connected");
            await left.SendLineAsync($"Chat right{i}");
            await left.ExpectLineAsync("Chat started");
            await right.ExpectLineAsync("Chat started");
            await left.SendLineAsync($"hello from left{i}");
            await left.SendLineAsync($"second from left{i}");
            await right.ExpectMessageAsync($"left{i}: hello from left{i}");
            await right.ExpectMessageAsync($"left{i}: second from left{i}");
            await right.SendLineAsync($"reply from right{i}");
            await left.ExpectMessageAsync($"right{i}: reply from right{i}");
            await left.SendLineAsync("End chat");
            await left.ExpectLineAsync("Chat ended");
            await right.ExpectLineAsync("Chat ended");
        }
    }

    /// <summary>Seed step 5: A types "End chat" and displays "Chat ended"; B receives END_NOTIF and displays "Chat ended".</summary>
    private static async Task EndChatByAAsync(ParleyProcess a, ParleyProcess b)
    {
        await a.SendLineAsync("End chat");
        await a.ExpectLineAsync("Chat ended");
        await b.ExpectLineAsync("Chat ended");
    }

    [Fact]
    public async Task A_message_typed_just_before_End_chat_is_shown_before_Chat_ended()
    {
        await using var pair = await AliceAndBob.StartAsync();
        var (server, a, b) = pair;
        await BasicChatStepsOneToFourAsync(a, b);

        await a.SendLineAsync("Bye Bob");
        await a.SendLineAsync("End chat");
        await a.ExpectLineAsync("Chat ended");
        await b.ExpectMessageAsync("alice: Bye Bob");
        await b.ExpectLineAsync("Chat ended");
    }

    /// <summary>Seed steps 1–4 of "Basic chat initiated and closed by A".</summary>
    private static async Task BasicChatStepsOneToFourAsync(ParleyProcess a, ParleyProcess b)
    {
        await a.SendLineAsync("Log on");
        await a.ExpectLineAsync("Connected");
        await b.SendLineAsync("Log on");
        await b.ExpectLineAsync("Connected");
        await a.ExpectLineAsync("New person joined the room. Username: bob");
        await a.SendLineAsync("Chat bob");
        await a.ExpectLineAsync("Chat started");
        await b.ExpectLineAsync("Chat started");
        await a.SendLineAsync("Hello Bob");
        await b.ExpectMessageAsync("alice: Hello Bob");
        await b.SendLineAsync("Hi Alice");
        await a.ExpectMessageAsync("bob: Hi Alice");
    }

    // Seed 001 "Chat History": <session_id> <from: sending client> <chat message>, after seed 004's time.
    [GeneratedRegex("^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} (?<session>[0-9a-f]{8}) from: (?<from>\\S+) (?<text>.*)$")]
    private static partial Regex HistoryLine();
}

/// <summary>A server with alice and bob added and their (not yet logged on) clients running; disposes all three.</summary>
internal sealed record AliceAndBob(ServerProcess Server, ParleyProcess A, ParleyProcess B) : IAsyncDisposable
{
    public static async Task<AliceAndBob> StartAsync()
    {
        var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await server.AddUserAsync("bob", "bob-password");
        return new AliceAndBob(server, await server.StartClientAsync("alice", "alice-password"), await server.StartClientAsync("bob", "bob-password"));
    }

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class EndToEndCollection
{
    /// <summary>End-to-end tests start many processes; they run one at a time so a 2-core machine is not swamped.</summary>
    public const string Name = "end-to-end";
}
