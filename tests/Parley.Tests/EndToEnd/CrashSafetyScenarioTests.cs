using System.Text.RegularExpressions;
using Parley.Tests.Support;
using Xunit.Abstractions;
using static Parley.Tests.Support.ScenarioSteps;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue #9, crash safety as the user sees it: the real <c>parley chat</c> types <c>/dm</c> lines at a steady rate
/// while the real <c>parley server</c> is killed with SIGKILL. Seed 003's "Message sent" is printed only at DM_SENT,
/// after the commit (PROTOCOL §11.2), so every one of them must be a stored message after the restart; a line the
/// client takes after the link broke must be reported as not sent, and must never turn up.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class CrashSafetyScenarioTests(ITestOutputHelper output)
{
    private const int Rounds = 3;
    private const string Offline = "bob is offline and will see it at their next log-on.";
    private const string NotLoggedOn = "You are not logged on. Type \"Log on\" first.";
    private const string CouldNotSend = "Could not send: the connection to the server is lost.";
    private const string Unknown = "Unknown command: /no-such-command. Type /help for the list.";

    // One line every 50 ms: a steady 20 DMs a second, as a fast typist or a script would send them.
    private static readonly TimeSpan Steady = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task Every_Message_sent_the_client_printed_is_stored_after_a_SIGKILL_and_lines_typed_after_the_break_are_not_sent()
    {
        var directory = Directory.CreateTempSubdirectory("parley-crash-").FullName;
        try
        {
            var rounds = new Round[Rounds + 1];
            for (var round = 1; round <= Rounds; round++)
            {
                var server = await ServerProcess.StartOnAsync(directory);
                try
                {
                    if (round == 1)
                    {
                        await LogOnOnceAsync(server, "bob"); // his key is published, so alice can seal to him
                    }

                    rounds[round] = await TypeUntilKilledAsync(server, round);
                }
                finally
                {
                    await server.Process.KillAsync();
                    await server.Process.DisposeAsync();
                }
            }

            await using var last = await ServerProcess.StartOnAsync(directory);
            var stored = await ReadAsBobAsync(last);
            for (var round = 1; round <= Rounds; round++)
            {
                // alice's client sends in order on one link and the server commits in arrival order, so what is stored
                // of a round is its first lines, each once, at least as many as "Message sent" said and no line typed
                // after the break.
                var numbers = stored.Where(s => s.Round == round).Select(s => s.Number).ToList();
                var r = rounds[round];
                output.WriteLine($"round {round}: {r.Typed} lines typed, {r.Announced} \"Message sent\", {r.CouldNotSend} \"Could not send\", "
                    + $"{r.Refused} refused as not logged on, {numbers.Count} stored");
                Assert.Equal(Enumerable.Range(1, numbers.Count), numbers);
                Assert.InRange(numbers.Count, r.Announced, r.Typed);
            }
        }
        finally
        {
            CrashSafetyTests.DeleteDirectory(directory);
        }
    }

    /// <summary>
    /// alice types a /dm line every <see cref="Steady"/>; after five "Message sent" the server is killed. Returns what
    /// her client printed, and how many lines had been typed when the typist stopped, after the client said the link was gone.
    /// </summary>
    private static async Task<Round> TypeUntilKilledAsync(ServerProcess server, int round)
    {
        // Without reconnecting, every line after the break must be refused as not logged on: what happens to lines typed
        // while the client reconnects is ReconnectScenarioTests' subject ("Could not send").
        await using var alice = await LogOnAsync(server, "alice", round == 1, "--room=none", "--no-reconnect");
        using var stop = new CancellationTokenSource();
        var typed = 0;
        var typing = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(Steady);
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    await alice.SendLineAsync($"/dm bob r{round} n{Interlocked.Increment(ref typed):D3}");
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        // Each "Message sent" to bob, who is offline, comes with the line that says he will see it later.
        var announced = 0;
        while (announced < 5)
        {
            announced += await NextDmLineAsync(alice);
        }

        await server.Process.KillAsync();

        // Until the client sees the link close, a DM_SENT already on its way can still print "Message sent", a line
        // may go into the dead socket (nothing printed) or fail to ("Could not send: …").
        var couldNotSend = 0;
        for (string line; !(line = await alice.WaitForLineAsync(_ => true)).StartsWith("Disconnected from the server (", StringComparison.Ordinal);)
        {
            couldNotSend += line == CouldNotSend ? 1 : 0;
            announced += line == CouldNotSend ? 0 : Counted(line);
        }

        await stop.CancelAsync();
        await typing;
        var allTyped = Volatile.Read(ref typed);

        // The client is logged off now: each line it takes from here on, the typist's last ones included, is
        // refused as not logged on and sends nothing. The unknown command marks the end of what was typed.
        await alice.SendLineAsync($"/dm bob r{round} typed after the break");
        await alice.SendLineAsync($"/dm bob r{round} typed after the break, again");
        await alice.SendLineAsync("/no-such-command");
        var refused = 0;
        for (string line; (line = await alice.WaitForLineAsync(_ => true)) != Unknown; refused++)
        {
            Assert.Equal(NotLoggedOn, line);
        }

        Assert.InRange(refused, 2, allTyped + 2);
        await alice.SendLineAsync("/quit");
        Assert.Equal(0, await alice.WaitForExitAsync());
        return new Round(announced, allTyped, couldNotSend, refused - 2);
    }

    /// <summary>Reads alice's next line, which must be part of a DM's confirmation; returns 1 for "Message sent".</summary>
    private static async Task<int> NextDmLineAsync(ParleyProcess alice) => Counted(await alice.WaitForLineAsync(_ => true));

    private static int Counted(string line)
    {
        Assert.True(line is "Message sent" or Offline, $"unexpected line \"{line}\"");
        return line == "Message sent" ? 1 : 0;
    }

    /// <summary>
    /// bob logs on after the last restart and opens his conversation with alice: every DM stored for him, in order,
    /// each of which must be one of the typist's numbered lines (never one typed after the break).
    /// </summary>
    private static async Task<List<(int Round, int Number)>> ReadAsBobAsync(ServerProcess server)
    {
        await using var bob = await LogOnAsync(server, "bob", add: false, "--room=none");
        var unread = int.Parse((await bob.ExpectLineAsync(UnreadLine())).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        await bob.SendLineAsync("/talk alice");
        var stored = new List<(int Round, int Number)>();
        for (var i = 0; i < unread; i++)
        {
            var match = StoredLine().Match(await bob.WaitForLineAsync(_ => true));
            Assert.True(match.Success, $"not one of alice's lines:\n{string.Join('\n', bob.Lines)}");
            stored.Add((int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)));
        }

        await bob.ExpectLineAsync($"Conversation with alice: {unread} messages, {unread} unread. Type to send; !BACK returns to the menu.");
        return stored;
    }

    /// <summary>What alice's client printed in one round; <c>Refused</c> counts only the typist's lines, not the two typed after the break.</summary>
    private sealed record Round(int Announced, int Typed, int CouldNotSend, int Refused);

    [GeneratedRegex(@"^You have (\d+) unread messages: alice \(\d+\)$")]
    private static partial Regex UnreadLine();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} alice: r(\d) n(\d{3})$")]
    private static partial Regex StoredLine();
}
