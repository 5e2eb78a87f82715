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
            $"{ParleyProcess.Executable} chat --user alice --port {server.UdpPort}");

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
        await bob.SendLineAsync("Chat alice");
        await bob.ExpectLineAsync("Chat started");
        await terminal.WaitForScreenAsync(s => s.Contains("Chat started"), "\"Chat started\"");

        // Alice has typed half a line when bob's message arrives.
        await terminal.TypeAsync("Hello the");
        await terminal.WaitForScreenAsync(s => LastLine(s) == "alice to bob> Hello the", "the half-typed line");
        await bob.SendLineAsync("Are you there?");
        screen = await terminal.WaitForScreenAsync(s => s.Contains("bob: Are you there?"), "bob's message");

        // The message sits on its own line above; the prompt and the partial input are redrawn below it, intact.
        Assert.Equal("alice to bob> Hello the", LastLine(screen));
        Assert.True(Array.IndexOf(screen, "bob: Are you there?") < Array.FindLastIndex(screen, l => l.Length > 0));
        Assert.DoesNotContain(screen, l => l.Contains("Hello thebob", StringComparison.Ordinal) || l.Contains("theAre", StringComparison.Ordinal));

        // Finishing the line sends exactly what was typed before and after the interruption.
        await terminal.TypeAsync("re");
        await terminal.EnterAsync();
        await bob.ExpectLineAsync("alice: Hello there");
    }

    private static string LastLine(string[] screen) => screen.LastOrDefault(l => l.Length > 0) ?? "";
}
