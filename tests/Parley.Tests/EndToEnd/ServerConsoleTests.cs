using System.Text.RegularExpressions;
using Parley.Tests.Support;
using static Parley.Tests.Support.ScenarioSteps;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue #7 with the real executables: seed 004's TERMINATE at the server's console, <c>parley admin</c> from another
/// shell, and what clients see of both.
/// </summary>
public sealed partial class ServerConsoleTests
{
    [Fact]
    public async Task Terminate_at_the_console_ends_the_chat_tells_both_clients_keeps_the_history_and_exits_0()
    {
        await using var server = await ServerProcess.StartAsync();
        await ExpectAdminSocketLineAsync(server);
        await using var alice = await LogOnWithoutRoomAsync(server, "alice");
        await using var bob = await LogOnWithoutRoomAsync(server, "bob");
        await alice.SendLineAsync("Chat bob");
        await alice.ExpectLineAsync("Chat started");
        await bob.ExpectLineAsync("Chat started");
        for (var i = 1; i <= 3; i++)
        {
            await alice.SendLineAsync($"to bob {i}");
            await bob.ExpectMessageAsync($"alice: to bob {i}");
        }

        await bob.SendLineAsync("to alice");
        await alice.ExpectMessageAsync("bob: to alice");

        // Seed 004: "TERMINATE" at the server console; "All connections had been terminated", "Server is shut down".
        await server.Process.SendLineAsync("TERMINATE");
        await server.Process.ExpectLineAsync("Shutting down");
        await server.Process.ExpectLineAsync("All connections had been terminated");
        await server.Process.ExpectLineAsync("Server is shut down");
        Assert.Equal(0, await server.Process.WaitForExitAsync());

        // Both clients: the chat ends, the server's notice, and they are logged off (not crashed: they still take commands).
        foreach (var client in new[] { alice, bob })
        {
            await client.ExpectLineAsync("Chat ended");
            await client.ExpectLineAsync("The server is shutting down.");
            await client.ExpectLineAsync("Logged off");
            await client.SendLineAsync("/quit");
            Assert.Equal(0, await client.WaitForExitAsync());
        }

        // Every message either client was shown is in the history after a restart.
        await using var restarted = await server.RestartAsync();
        await using var again = await LogOnWithoutRoomAsync(restarted, "alice", add: false);
        await again.SendLineAsync("History bob");
        foreach (var (from, text) in new[] { ("alice", "to bob 1"), ("alice", "to bob 2"), ("alice", "to bob 3"), ("bob", "to alice") })
        {
            await again.ExpectLineAsync(new Regex($@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d [0-9a-f]{{8}} from: {from} {text}$"));
        }

        await again.ExpectLineAsync("End of history with bob (4 messages)");
    }

    [Fact]
    public async Task Parley_admin_lists_users_broadcasts_and_kicks_one_user_only()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var alice = await LogOnWithoutRoomAsync(server, "alice");
        await using var bob = await LogOnWithoutRoomAsync(server, "bob");

        var users = await AdminAsync(server, "users");
        Assert.Equal(0, users.ExitCode);
        Assert.Equal("2 users online:", users.Lines[0]);
        Assert.Matches(@"^  alice  since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  from 127\.0\.0\.1:\d+$", users.Lines[1]);
        Assert.Matches(@"^  bob    since .+  from 127\.0\.0\.1:\d+$", users.Lines[2]);
        Assert.Equal((0, "No chat sessions"), Result(await AdminAsync(server, "sessions")));

        Assert.Equal((0, "Notice sent to 2 users"), Result(await AdminAsync(server, "broadcast", "Maintenance at noon")));
        await alice.ExpectMessageAsync("[server] Maintenance at noon");
        await bob.ExpectMessageAsync("[server] Maintenance at noon");

        Assert.Equal((0, "Disconnected bob"), Result(await AdminAsync(server, "kick", "bob", "spamming")));
        await bob.ExpectLineAsync("The server's operator disconnected you: spamming");
        await bob.ExpectLineAsync("Logged off");

        // alice is still connected, and bob is offline: her DM waits for him.
        await SendOfflineAsync(alice, "bob", "still here?");

        Assert.Equal((1, "bob is not online."), Result(await AdminAsync(server, "kick", "bob")));
        Assert.Equal(1, (await AdminAsync(server, "frobnicate")).ExitCode);
        var nowhere = await ParleyProcess.RunAsync(null, "admin", "--admin-socket", Path.Combine(server.DataDirectory, "nobody.sock"), "users");
        Assert.Equal(2, nowhere.ExitCode);
        Assert.Contains("No Parley server answered on", nowhere.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_crashed_server_leaves_no_obstacle_a_running_one_keeps_its_data_directory_and_ctrl_c_is_graceful()
    {
        var crashed = await ServerProcess.StartAsync();
        await crashed.Process.KillAsync();
        await crashed.Process.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(crashed.DataDirectory, "admin.sock")), "SIGKILL should leave the socket file behind");

        await using var server = await ServerProcess.StartOnAsync(crashed.DataDirectory);
        await ExpectAdminSocketLineAsync(server);
        Assert.Equal((0, "No users online"), Result(await AdminAsync(server, "users")));

        // A second server on the same data directory would share its database: it is refused, naming the reason.
        var second = await ParleyProcess.RunAsync(null, "server", "--data-dir", server.DataDirectory, "--port", "0", "--scram-iterations", "4096");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("Another Parley server is running with the admin socket", second.Stderr, StringComparison.Ordinal);

        server.Process.Interrupt();
        await server.Process.ExpectLineAsync("All connections had been terminated");
        await server.Process.ExpectLineAsync("Server is shut down");
        Assert.Equal(0, await server.Process.WaitForExitAsync());
    }

    [Fact]
    public async Task A_second_ctrl_c_ends_a_shutdown_that_hangs_at_once()
    {
        var server = await ServerProcess.StartAsync("--shutdown-timeout", "3600");
        try
        {
            await using var alice = await LogOnWithoutRoomAsync(server, "alice");
            await using var bob = await LogOnWithoutRoomAsync(server, "bob");
            await alice.SendLineAsync("Chat bob");
            await bob.ExpectLineAsync("Chat started");

            // Another writer holds the database: alice's message cannot be committed, so the shutdown waits for it.
            using var holder = server.OpenDatabase();
            OperatorDatabase.Query(holder, "BEGIN IMMEDIATE;", _ => 0);
            await alice.SendLineAsync("held up by the disk");
            server.Process.Interrupt();
            await server.Process.WaitForStderrAsync(l => l.Contains("Shutting down (SIGINT)", StringComparison.Ordinal));

            server.Process.Interrupt();
            Assert.NotEqual(0, await server.Process.WaitForExitAsync());
            Assert.DoesNotContain("Server is shut down", server.Process.Lines);
            OperatorDatabase.Query(holder, "ROLLBACK;", _ => 0);
        }
        finally
        {
            await server.Process.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_metrics_port_serves_health_and_counts_a_real_chat_on_loopback_only()
    {
        await using var server = await ServerProcess.StartAsync("--metrics-port", "0");
        await ExpectAdminSocketLineAsync(server);
        var endpoint = (await server.Process.ExpectLineAsync(MetricsLine())).Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri($"http://{endpoint}"), Timeout = ParleyProcess.Timeout };
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));

        await using var alice = await LogOnWithoutRoomAsync(server, "alice");
        await using var bob = await LogOnWithoutRoomAsync(server, "bob");
        await alice.SendLineAsync("Chat bob");
        await bob.ExpectLineAsync("Chat started");
        for (var i = 1; i <= 3; i++)
        {
            await alice.SendLineAsync($"counted {i}");
            await bob.ExpectMessageAsync($"alice: counted {i}");
        }

        var metrics = await http.GetStringAsync("/metrics");
        Assert.Equal(3, Sample(metrics, @"parley_messages_stored_total\{kind=""chat""\}"));
        Assert.Equal(3, Sample(metrics, @"parley_messages_relayed_total\{kind=""chat""\}"));
        Assert.Equal(2, Sample(metrics, @"parley_logons_total\{result=""ok""\}"));
        Assert.Equal(2, Sample(metrics, "parley_connections_open"));
        Assert.Equal(1, Sample(metrics, "parley_sessions_active"));
    }

    /// <summary>The value of the one sample whose name and labels match <paramref name="series"/> (a regex).</summary>
    private static double Sample(string exposition, string series)
    {
        var match = Regex.Match(exposition, $@"^{series} (\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no sample {series} in:\n{exposition}");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<(int ExitCode, IReadOnlyList<string> Lines, string Stderr)> AdminAsync(ServerProcess server, params string[] words) =>
        ParleyProcess.RunAsync(null, ["admin", "--data-dir", server.DataDirectory, .. words]);

    /// <summary>The exit code and stdout (lines joined with \n), compared as values.</summary>
    private static (int, string) Result((int ExitCode, IReadOnlyList<string> Lines, string Stderr) run) => (run.ExitCode, string.Join('\n', run.Lines));

    private static Task ExpectAdminSocketLineAsync(ServerProcess server) =>
        server.Process.ExpectLineAsync(AdminSocketLine());

    [GeneratedRegex(@"^Metrics http://(127\.0\.0\.1:\d+)/metrics and /healthz$")]
    private static partial Regex MetricsLine();

    [GeneratedRegex(@"^Admin socket /.+/admin\.sock \(parley admin help\)$")]
    private static partial Regex AdminSocketLine();
}
