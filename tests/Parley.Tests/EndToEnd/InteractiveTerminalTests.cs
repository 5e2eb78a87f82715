using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>The interactive client in a real terminal (tmux), as a person uses it.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class InteractiveTerminalTests
{
    [Fact]
    public async Task An_incoming_message_is_printed_above_a_half_typed_line_which_stays_intact()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await server.AddUserAsync("bob", "bob-password");
        await using var terminal = await TmuxTerminal.StartAsync(
            $"{ParleyProcess.Executable} chat --user alice --port {server.UdpPort} --state-dir {server.ClientStateDirectory} --listen-port 0");

        // Log on at the prompt; the password is typed without echo.
        await terminal.WaitForScreenAsync(s => s.Contains(">"), "the prompt");
        await terminal.TypeAsync("Log on");
        await terminal.EnterAsync();
        await terminal.WaitForScreenAsync(s => s.Any(l => l.StartsWith("Password for alice:", StringComparison.Ordinal)), "the password prompt");
        await terminal.TypeAsync("alice-password");
        await terminal.EnterAsync();
        var screen = await terminal.WaitForScreenAsync(s => s.Contains("Connected"), "\"Connected\"");
        Assert.DoesNotContain(screen, l => l.Contains("alice-password", StringComparison.Ordinal));

        // Bob (a script client) starts a chat with alice.
        await using var bob = await server.StartClientAsync("bob", "bob-password");
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await terminal.WaitForScreenAsync(s => s.Contains("New person joined the room. Username: bob"), "bob's join notice");
        await bob.SendLineAsync("Chat alice");
        await bob.ExpectLineAsync("Chat started");
        await terminal.WaitForScreenAsync(s => s.Contains("Chat started"), "\"Chat started\"");

        // Alice has typed half a line when bob's message arrives.
        await terminal.TypeAsync("Hello the");
        await terminal.WaitForScreenAsync(s => LastLine(s) == "alice to bob> Hello the", "the half-typed line");
        await bob.SendLineAsync("Are you there?");
        screen = await terminal.WaitForScreenAsync(s => s.Any(IsBobsMessage), "bob's message");

        // The message sits on its own line above; the prompt and the partial input are redrawn below it, intact.
        Assert.Equal("alice to bob> Hello the", LastLine(screen));
        Assert.True(Array.FindIndex(screen, IsBobsMessage) < Array.FindLastIndex(screen, l => l.Length > 0));
        Assert.DoesNotContain(screen, l => l.Contains("Hello thebob", StringComparison.Ordinal) || l.Contains("theAre", StringComparison.Ordinal));

        // Finishing the line sends exactly what was typed before and after the interruption.
        await terminal.TypeAsync("re");
        await terminal.EnterAsync();
        await bob.ExpectMessageAsync("alice: Hello there");

        // Seed 004's layout: "2023-06-25 09:35:24 Ira: Hi".
        static bool IsBobsMessage(string line) =>
            System.Text.RegularExpressions.Regex.IsMatch(line, @"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} bob: Are you there\?$");
    }

    [Fact]
    public async Task An_unknown_ID_is_welcomed_as_a_new_user_and_a_known_one_gets_three_tries()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await using var terminal = await TmuxTerminal.StartAsync($"{ParleyProcess.Executable} chat --port {server.UdpPort} --state-dir {server.ClientStateDirectory} --listen-port 0");
        await terminal.WaitForScreenAsync(s => s.Contains(">"), "the prompt");

        // Seed 003: a known ID may try again, three attempts in all; the server then locks it.
        await terminal.TypeAsync("Log on alice");
        await terminal.EnterAsync();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await terminal.WaitForScreenAsync(s => LastLine(s).StartsWith("Password for alice:", StringComparison.Ordinal), $"password prompt {attempt}");
            await terminal.TypeAsync("wrong-password");
            await terminal.EnterAsync();
            await terminal.WaitForScreenAsync(s => s.Count(l => l.StartsWith("Log-on failed", StringComparison.Ordinal)) == attempt, $"failure {attempt}");
        }

        // The terminal wraps long lines, so look for the notice in the screen's text as a whole.
        var screen = await terminal.WaitForScreenAsync(s => string.Concat(s).Contains("it is locked; try again in 1 min.", StringComparison.Ordinal), "the lock notice");
        Assert.DoesNotContain(screen, l => l.Contains("Welcome new user", StringComparison.Ordinal));

        // Seed 003: "Welcome new user: renew please enter a new password:" for an ID nobody has.
        await terminal.WaitForScreenAsync(s => LastLine(s) == ">", "the prompt after the lock");
        await terminal.TypeAsync("Log on renew");
        await terminal.EnterAsync();
        await terminal.WaitForScreenAsync(s => LastLine(s).StartsWith("Password for renew:", StringComparison.Ordinal), "renew's password prompt");
        await terminal.TypeAsync("anything-at-all");
        await terminal.EnterAsync();
        await terminal.WaitForScreenAsync(s => LastLine(s).StartsWith("Welcome new user: renew please enter a new password", StringComparison.Ordinal), "the new-user offer");
        await terminal.TypeAsync("renew-password");
        await terminal.EnterAsync();
        await terminal.WaitForScreenAsync(s => LastLine(s).StartsWith("Repeat the password:", StringComparison.Ordinal), "the repeat prompt");
        await terminal.TypeAsync("renew-password");
        await terminal.EnterAsync();
        screen = await terminal.WaitForScreenAsync(s => s.Contains("Connected"), "\"Connected\"");
        Assert.Contains("Signed up as renew.", screen);
        Assert.DoesNotContain(screen, l => l.Contains("renew-password", StringComparison.Ordinal) || l.Contains("wrong-password", StringComparison.Ordinal));
    }

    private static string LastLine(string[] screen) => screen.LastOrDefault(l => l.Length > 0) ?? "";
}
