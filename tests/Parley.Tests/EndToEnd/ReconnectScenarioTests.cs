using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Parley.Tests.Support;
using static Parley.Tests.Support.ScenarioSteps;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue #9 with the real executables: a <c>parley chat</c> whose link drops (the server killed, or shut down for a
/// restart) logs on again by itself, on the same ports, with the same key and rooms; what ends a log-on for good (the
/// user's Log off, a kick, a log-on elsewhere, a changed password) is not retried; nothing typed meanwhile is sent.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class ReconnectScenarioTests
{
    /// <summary>Short waits so a test takes seconds: a try gives up after 2 s, the first wait is 0.2 s, the longest 1 s.</summary>
    private static readonly string[] Fast = ["--room=none", "--timeout", "2", "--reconnect-delay", "0.2", "--reconnect-max-delay", "1"];

    private const string LinkLost = "Could not send: the connection to the server is lost.";
    private const string NotLoggedOn = "You are not logged on. Type \"Log on\" first.";

    [Fact]
    public async Task After_a_crash_and_a_restart_both_clients_end_the_chat_log_on_again_and_get_what_was_sent_meanwhile()
    {
        await using var first = await ServerProcess.StartAsync();
        await LogOnOnceAsync(first, "carol");

        // alice logs on through a UDP relay the test can cut, so that she stays away until carol has written to her.
        await using var relay = new LossyUdpProxy(new IPEndPoint(IPAddress.Loopback, first.UdpPort), dropEvery: 0);
        await first.AddUserAsync("alice", PasswordOf("alice"));
        await using var alice = await StartClientAsync(first, "alice", relay.Port, Fast);
        await alice.SendLineAsync("Log on");
        await alice.ExpectLineAsync("Connected");
        await using var bob = await LogOnAsync(first, "bob", add: true, Fast);
        await alice.SendLineAsync("Chat bob");
        await alice.ExpectLineAsync("Chat started");
        await bob.ExpectLineAsync("Chat started");
        await alice.SendLineAsync("before the crash");
        await bob.ExpectMessageAsync("alice: before the crash");

        relay.Outage = true;
        await first.KillAsync();
        foreach (var client in new[] { alice, bob })
        {
            await client.ExpectLineAsync("Chat ended");
            await client.ExpectLineAsync(Disconnected());
            await client.ExpectLineAsync(FirstWait());
        }

        // Typed while away: refused on the spot, and never sent later (carol's is the only message alice gets).
        await bob.SendLineAsync("/dm alice typed while away");
        await ExpectSkippingRetriesAsync(bob, LinkLost);

        await using var second = await first.StartAgainAsync();
        await ExpectSkippingRetriesAsync(bob, "Reconnected");
        await using var carol = await LogOnAsync(second, "carol", add: false, "--room=none");
        await SendOfflineAsync(carol, "alice", "while you were away");

        relay.Outage = false;
        await ExpectSkippingRetriesAsync(alice, "Reconnected");
        await alice.ExpectLineAsync("You have 1 unread message: carol (1)");

        // The old chat is over; a new one works, encrypted with the identity key kept across the reconnect.
        await bob.SendLineAsync("Chat alice");
        await bob.ExpectLineAsync("Chat started");
        await alice.ExpectLineAsync("Chat started");
        await alice.SendLineAsync("after the restart");
        await bob.ExpectMessageAsync("alice: after the restart");
        await bob.SendLineAsync("End chat");
        await bob.ExpectLineAsync("Chat ended");
        await alice.ExpectLineAsync("Chat ended");
        await alice.SendLineAsync("/talk carol");
        await alice.ExpectMessageAsync("carol: while you were away");
        await alice.ExpectLineAsync("Conversation with carol: 1 message, 1 unread. Type to send; !BACK returns to the menu.");
        await QuitAsync(alice, bob, carol);
    }

    [Fact]
    public async Task A_server_shut_down_and_started_again_is_rejoined_in_the_rooms_the_user_was_in()
    {
        await using var first = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(first, "alice", add: true, [.. Fast[1..]]); // in #lobby, the default room
        await alice.SendLineAsync("/join #rust");
        await alice.ExpectLineAsync("Joined #rust (1 member)");
        await alice.SendLineAsync("/part #lobby");
        await alice.ExpectLineAsync("Left #lobby");

        Assert.Equal(0, await first.Process.TerminateAsync());
        await alice.ExpectLineAsync("The server is shutting down.");
        await alice.ExpectLineAsync("Logged off");
        await alice.ExpectLineAsync(FirstWait());
        await using var second = await first.StartAgainAsync();
        await ExpectSkippingRetriesAsync(alice, "Reconnected");

        // bob logs on into #lobby, then joins #rust: alice hears only the second, so she is in #rust and not in #lobby.
        await using var bob = await LogOnAsync(second, "bob", add: true);
        await bob.SendLineAsync("/join #rust");
        await bob.ExpectLineAsync("Joined #rust (2 members)");
        await alice.ExpectLineAsync("[#rust] New person joined the room. Username: bob");
        await bob.SendLineAsync("hello rust");
        await alice.ExpectMessageAsync("[#rust] bob: hello rust");

        // alice's plain lines go to #rust again, as before the restart.
        await alice.SendLineAsync("hello bob");
        await bob.ExpectMessageAsync("[#rust] alice: hello bob");
        await alice.SendLineAsync("/rooms");
        await alice.ExpectLineAsync("Rooms (2):");
        await alice.ExpectLineAsync("  #rust   2 members (joined)");
        await alice.ExpectLineAsync("  #lobby  1 member");
        await QuitAsync(alice, bob);
    }

    [Fact]
    public async Task A_kick_a_log_on_elsewhere_and_log_off_end_the_log_on_without_a_retry()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(server, "alice", add: true, Fast);

        // Each time, the line after the notice answers the next command: no "Reconnecting in" came between.
        var kick = await ParleyProcess.RunAsync(null, "admin", "--data-dir", server.DataDirectory, "kick", "alice", "spamming");
        Assert.Equal(0, kick.ExitCode);
        await alice.ExpectLineAsync("The server's operator disconnected you: spamming");
        await alice.ExpectLineAsync("Logged off");
        await alice.SendLineAsync("/list");
        await alice.ExpectLineAsync(NotLoggedOn);

        // A kicked user may log on again; a second client of the same user then takes over, and the first stays off.
        await alice.SendLineAsync("Log on");
        await alice.ExpectLineAsync("Connected");
        await using var again = await LogOnAsync(server, "alice", add: false, Fast);
        await alice.ExpectLineAsync("Error: You logged on from another client; this one is disconnected.");
        await alice.ExpectLineAsync(Disconnected());
        await alice.SendLineAsync("/list");
        await alice.ExpectLineAsync(NotLoggedOn);
        await again.SendLineAsync("/list");
        await again.ExpectLineAsync("Users (1 online, 1 listed):");
        await again.ExpectLineAsync("  alice  online");

        await again.SendLineAsync("Log off");
        await again.ExpectLineAsync("Logged off");
        await again.SendLineAsync("/list");
        await again.ExpectLineAsync(NotLoggedOn);
        await QuitAsync(alice, again);
    }

    [Fact]
    public async Task A_password_reset_while_the_server_was_down_stops_the_retries_without_a_failed_log_on()
    {
        await using var first = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(first, "alice", add: true, Fast);
        Assert.Equal(0, await first.Process.TerminateAsync());
        await alice.ExpectLineAsync("The server is shutting down.");
        await alice.ExpectLineAsync("Logged off");
        await alice.ExpectLineAsync(FirstWait());

        var reset = await ParleyProcess.RunAsync("alice-new-password", "user", "reset-password", "alice", "--password-stdin",
            "--data-dir", first.DataDirectory, "--scram-iterations", "4096");
        Assert.Equal((0, "Reset the password of alice"), (reset.ExitCode, reset.Lines.Single()));
        await using var second = await first.StartAgainAsync();

        // The client kept no password, only the old key, which cannot answer the new salt: it stops before any proof.
        await ExpectSkippingRetriesAsync(alice,
            "The server no longer accepts the password you logged on with (it was changed or reset, or the account was removed).");
        await alice.ExpectLineAsync("Stopped reconnecting. Type \"Log on\" to log on again.");
        await alice.SendLineAsync("/list");
        await alice.ExpectLineAsync(NotLoggedOn);

        // The server's log is read as it comes: bob's leaving is logged after anything alice's try caused.
        await LogOnOnceAsync(second, "bob");
        Assert.DoesNotContain("Log-on failed", second.Process.Stderr, StringComparison.Ordinal);
        await QuitAsync(alice);
    }

    [Fact]
    public async Task While_waiting_to_reconnect_quit_and_ctrl_c_end_the_program_and_log_on_tries_at_once()
    {
        // An hour's wait: if any of these waited for it, the test would time out. The one try carol makes gets a
        // generous --timeout, so a loaded machine cannot make it fail and leave her waiting for the hour.
        string[] patient = ["--room=none", "--timeout", "10", "--reconnect-delay", "3600", "--reconnect-max-delay", "3600"];
        await using var first = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(first, "alice", add: true, patient);
        await using var bob = await LogOnAsync(first, "bob", add: true, patient);
        await using var carol = await LogOnAsync(first, "carol", add: true, patient);
        await first.KillAsync();
        foreach (var client in new[] { alice, bob, carol })
        {
            await client.ExpectLineAsync(Disconnected());
            await client.ExpectLineAsync(FirstWait());
        }

        await alice.SendLineAsync("/quit");
        Assert.Equal(0, await alice.WaitForExitAsync());
        bob.Interrupt();
        Assert.Equal(0, await bob.WaitForExitAsync());

        await using var second = await first.StartAgainAsync();
        await carol.SendLineAsync("Log on");
        await carol.ExpectLineAsync("Reconnected");
        await carol.SendLineAsync("/list online");
        await carol.ExpectLineAsync("Users (1 online, 1 listed):");
        await carol.ExpectLineAsync("  carol  online");
        await QuitAsync(carol);
    }

    [Fact]
    public async Task A_direct_call_goes_on_while_the_server_is_away_and_hangup_still_ends_it()
    {
        // Seed 000: once up, a call does not need the server; each user on a loopback address of their own.
        await using var first = await ServerProcess.StartAsync();
        await using var bianca = await LogOnAsync(first, "bianca", add: true, [.. Fast, "--source-address", "127.0.0.3"]);
        await using var ali = await LogOnAsync(first, "ali", add: true, [.. Fast, "--source-address", "127.0.0.2"]);
        await ali.SendLineAsync("/call bianca");
        await ali.ExpectLineAsync("Connection established with bianca, type your messages");
        await bianca.ExpectLineAsync("Connection received from user ali, type your messages");

        await first.KillAsync();
        foreach (var client in new[] { ali, bianca })
        {
            await client.ExpectLineAsync(Disconnected());
            await client.ExpectLineAsync(FirstWait());
        }

        await ali.SendLineAsync("the server is gone");
        await ExpectSkippingRetriesAsync(bianca, CallLine("ali", "the server is gone"));
        await bianca.SendLineAsync("we are still here");
        await ExpectSkippingRetriesAsync(ali, CallLine("bianca", "we are still here"));
        await bianca.SendLineAsync("/hangup");
        await ExpectSkippingRetriesAsync(bianca, "Connection ended");
        await ExpectSkippingRetriesAsync(ali, "Connection ended");

        await using var second = await first.StartAgainAsync();
        await ExpectSkippingRetriesAsync(ali, "Reconnected");
        await ExpectSkippingRetriesAsync(bianca, "Reconnected");
        await ali.SendLineAsync("/dm bianca through the server again");
        await ali.ExpectLineAsync("Message sent");
        await bianca.ExpectMessageAsync("[DM] ali: through the server again");
        await QuitAsync(ali, bianca);
    }

    [Fact]
    public async Task A_client_cut_off_for_sending_too_fast_is_not_logged_on_again()
    {
        // A flooding script must not simply come back: RATE_LIMITED on the link ends the log-on for good.
        await using var server = await ServerProcess.StartAsync("--message-rate", "1", "--message-burst", "5");
        await using var alice = await LogOnAsync(server, "alice", add: true, Fast);
        for (var i = 0; i < 20; i++)
        {
            await alice.SendLineAsync("/list");
        }

        await alice.WaitForLineAsync(line => line == "Error: You sent more than 1 messages a second (bursts of 5 allowed); you are disconnected.");
        await alice.WaitForLineAsync(Disconnected().IsMatch);
        await alice.ExpectLineAsync("Stopped reconnecting. Type \"Log on\" to log on again.");

        // Whatever of the flood is left finds her logged off, with no try under way, and so does this line.
        await alice.SendLineAsync("/list");
        await alice.WaitForLineAsync(line => line == NotLoggedOn);
        await QuitAsync(alice);
        var after = alice.Lines.SkipWhile(line => !line.StartsWith("Stopped reconnecting", StringComparison.Ordinal)).Skip(1).ToList();
        Assert.NotEmpty(after);
        Assert.All(after, line => Assert.Equal(NotLoggedOn, line));
    }

    [Fact]
    public async Task A_try_refused_with_RATE_LIMITED_waits_at_least_as_long_as_the_server_said()
    {
        await using var first = await ServerProcess.StartAsync();
        await first.AddUserAsync("alice", PasswordOf("alice"));
        await using var relay = new LossyUdpProxy(new IPEndPoint(IPAddress.Loopback, first.UdpPort), dropEvery: 0);
        await using var alice = await StartClientAsync(first, "alice", relay.Port, Fast);
        await alice.SendLineAsync("Log on");
        await alice.ExpectLineAsync("Connected");

        // Restarted with one HELLO a minute per address; bob, on the same address, spends it while alice is cut off.
        relay.Outage = true;
        await first.KillAsync();
        await alice.ExpectLineAsync(Disconnected());
        await using var second = await first.StartAgainAsync("--hello-rate", "1");
        await LogOnOnceAsync(second, "bob");
        relay.Outage = false;

        var refused = RateLimitedRetry().Match(await alice.WaitForLineAsync(RateLimitedRetry().IsMatch));
        var stated = Protocol.Durations.ParseRetryAfter(refused.Value)!.Value;
        var waits = TimeSpan.FromSeconds(double.Parse(refused.Groups["wait"].Value.Replace(',', '.'), CultureInfo.InvariantCulture));
        Assert.True(waits >= stated, $"told to wait {stated}, it waits {waits}: {refused.Value}");
        await QuitAsync(alice);
    }

    [Theory]
    [InlineData("--reconnect-delay", "0", "--reconnect-delay must be at least 0.1 seconds and at most --reconnect-max-delay.")]
    [InlineData("--reconnect-delay", "0.001", "--reconnect-delay must be at least 0.1 seconds and at most --reconnect-max-delay.")]
    [InlineData("--reconnect-delay", "31", "--reconnect-delay must be at least 0.1 seconds and at most --reconnect-max-delay.")]
    [InlineData("--reconnect-max-delay", "0.5", "--reconnect-max-delay must be at least 1 and at most 3600 seconds.")]
    [InlineData("--reconnect-max-delay", "3601", "--reconnect-max-delay must be at least 1 and at most 3600 seconds.")]
    public async Task Reconnect_delays_out_of_range_are_refused_at_start(string option, string value, string message)
    {
        var run = await ParleyProcess.RunAsync(null, "chat", option, value);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Starts <c>parley chat</c> for <paramref name="clientId"/> against UDP <paramref name="port"/> (a relay in front of the server).</summary>
    private static async Task<ParleyProcess> StartClientAsync(ServerProcess server, string clientId, int port, string[] extra)
    {
        var client = ParleyProcess.Start(clientId, ["chat", "--user", clientId, "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--password-stdin", "--state-dir", server.ClientStateDirectory, "--listen-port", "0", .. extra]);
        await client.SendLineAsync(PasswordOf(clientId));
        return client;
    }

    /// <summary>
    /// The next line other than the report of a failed try (a server not answering yet) must be <paramref name="expected"/>:
    /// how many tries fail depends on how fast the server comes back.
    /// </summary>
    private static Task ExpectSkippingRetriesAsync(ParleyProcess client, string expected) =>
        ExpectSkippingRetriesAsync(client, new Regex($"^{Regex.Escape(expected)}$"));

    private static Task ExpectSkippingRetriesAsync(ParleyProcess client, Regex expected) => client.WaitForLineAsync(line =>
    {
        if (expected.IsMatch(line))
        {
            return true;
        }

        Assert.Matches(Retry(), line);
        return false;
    });

    /// <summary>A line of a direct call as the peer's terminal prints it, after seed 004's time stamp.</summary>
    private static Regex CallLine(string from, string text) => new($@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d \[call\] {from}: {Regex.Escape(text)}$");

    [GeneratedRegex(@"^Disconnected from the server \((the server closed the connection|the connection was lost)\)\.$")]
    private static partial Regex Disconnected();

    [GeneratedRegex(@"^Reconnecting in \d+([.,]\d)? s\. Type ""Log off"" to stop\.$")]
    private static partial Regex FirstWait();

    /// <summary>A try refused for the HELLO budget (§10.5): the server's wait, then the client's.</summary>
    [GeneratedRegex(@"^Too many log-on attempts from your address; try again in [^.]+\. Reconnecting in (?<wait>\d+([.,]\d)?) s\.$")]
    private static partial Regex RateLimitedRetry();

    /// <summary>A failed try: its reason (no answer yet, a refusal while the old server stops), then the next wait.</summary>
    [GeneratedRegex(@"^.+\. Reconnecting in \d+([.,]\d)? s\.$")]
    private static partial Regex Retry();
}
