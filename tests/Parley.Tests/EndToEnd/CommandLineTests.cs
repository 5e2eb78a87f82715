using System.Net;
using System.Net.Sockets;
using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>What a person sees from <c>parley user</c> and <c>parley chat</c> when things go wrong.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class CommandLineTests
{
    [Fact]
    public async Task User_add_list_and_remove_work_while_the_server_runs_and_refuse_duplicates_in_any_case()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("Alice", "password-1");
        var duplicate = await ParleyProcess.RunAsync("password-2", "user", "add", "alice", "--password-stdin", "--data-dir", server.DataDirectory, "--scram-iterations", "4096");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already taken", duplicate.Stderr, StringComparison.Ordinal);

        var list = await ParleyProcess.RunAsync(null, "user", "list", "--data-dir", server.DataDirectory);
        Assert.Equal(0, list.ExitCode);
        Assert.StartsWith("Alice\t", list.Lines[0], StringComparison.Ordinal);
        Assert.Equal("1 subscriber", list.Lines[^1]);

        // The running server sees the new user at once (shared SQLite database in WAL mode).
        await using (var alice = await server.StartClientAsync("alice", "password-1"))
        {
            await alice.SendLineAsync("Log on");
            await alice.ExpectLineAsync("Connected");
        }

        var removed = await ParleyProcess.RunAsync(null, "user", "remove", "ALICE", "--data-dir", server.DataDirectory);
        Assert.Equal((0, "Removed ALICE"), (removed.ExitCode, removed.Lines.Single()));
        var again = await ParleyProcess.RunAsync(null, "user", "remove", "alice", "--data-dir", server.DataDirectory);
        Assert.Equal(1, again.ExitCode);
    }

    [Fact]
    public async Task User_add_refuses_bad_ids_short_or_empty_passwords_and_weak_iteration_counts()
    {
        var dir = Directory.CreateTempSubdirectory("parley-cli-").FullName;
        var badId = await ParleyProcess.RunAsync("password", "user", "add", "no spaces", "--password-stdin", "--data-dir", dir);
        Assert.Equal(2, badId.ExitCode);
        Assert.Contains("may contain only letters, digits", badId.Stderr, StringComparison.Ordinal);
        var shortPassword = await ParleyProcess.RunAsync("short", "user", "add", "bob", "--password-stdin", "--data-dir", dir, "--scram-iterations", "4096");
        Assert.Equal(2, shortPassword.ExitCode);
        Assert.Contains("at least 8 characters", shortPassword.Stderr, StringComparison.Ordinal);
        var sameAsId = await ParleyProcess.RunAsync("Bobby-B1", "user", "add", "bobby-b1", "--password-stdin", "--data-dir", dir, "--scram-iterations", "4096");
        Assert.Equal(2, sameAsId.ExitCode);
        Assert.Contains("must not be the client ID", sameAsId.Stderr, StringComparison.Ordinal);
        var empty = await ParleyProcess.RunAsync("", "user", "add", "bob", "--password-stdin", "--data-dir", dir, "--scram-iterations", "4096");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("must not be empty", empty.Stderr, StringComparison.Ordinal);
        var weak = await ParleyProcess.RunAsync("password", "user", "add", "bob", "--password-stdin", "--data-dir", dir, "--scram-iterations", "1000");
        Assert.Equal(2, weak.ExitCode);
        Assert.Contains("between 4096", weak.Stderr, StringComparison.Ordinal);
        Assert.Equal("0 subscribers", (await ParleyProcess.RunAsync(null, "user", "list", "--data-dir", dir)).Lines.Single());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_wrong_password_is_reported_and_the_client_can_try_again()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "right-password");
        await using var client = await server.StartClientAsync("alice", "wrong-password");
        await client.SendLineAsync("Log on");
        await client.ExpectLineAsync("Log-on failed: unknown client ID or wrong password.");
        await client.SendLineAsync("Chat bob");
        await client.ExpectLineAsync("You are not logged on. Type \"Log on\" first.");
    }

    [Fact]
    public async Task An_idle_client_is_logged_off_by_the_activity_timer()
    {
        // Seed 001 step 7. Client and server share the timeout (announced in CONNECTED); whichever fires first, the
        // user is told and is logged off.
        await using var server = await ServerProcess.StartAsync("--activity-timeout", "1");
        await server.AddUserAsync("alice", "password");
        await using var client = await server.StartClientAsync("alice", "password");
        await client.SendLineAsync("Log on");
        await client.ExpectLineAsync("Connected");
        var notice = await client.WaitForLineAsync(l => l is "Logged off: no activity for 1 s." or "Error: No activity for 1 s; you have been logged off.");
        if (notice.StartsWith("Error", StringComparison.Ordinal))
        {
            await client.ExpectLineAsync("Disconnected from the server (the server closed the connection).");
        }

        await server.Process.WaitForStderrAsync(l => l.Contains("alice disconnected", StringComparison.Ordinal));
        await client.SendLineAsync("Chat bob");
        await client.WaitForLineAsync(l => l == "You are not logged on. Type \"Log on\" first.");
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_named_with_host_and_port()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        await using var client = ParleyProcess.Start("alice", "chat", "--user", "alice", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--timeout", "1", "--password-stdin");
        await client.SendLineAsync("pw");
        await client.SendLineAsync("Log on");
        await client.ExpectLineAsync($"The server is not reachable at 127.0.0.1:{port} (no answer within 1 s).");
    }

    [Fact]
    public async Task The_server_refuses_out_of_range_options_with_a_sentence()
    {
        var result = await ParleyProcess.RunAsync(null, "server", "--port", "70000", "--data-dir", Path.GetTempPath());
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--port (from the command line) must be between 0 and 65535", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Lines); // refused before anything was bound or printed
    }
}
