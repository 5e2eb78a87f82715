using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Parley.Client.Direct;
using Parley.Client.EndToEnd;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Tests.Support;
using static Parley.Tests.Support.ScenarioSteps;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Seed 000's typical sessions (issue #6) with real <c>parley server</c> and <c>parley chat --direct</c> processes,
/// each terminal on its own loopback address (ali 127.0.0.2, bianca 127.0.0.3, carol 127.0.0.4) so the destination's
/// address check is real. Ctrl-C is a real SIGINT. Every terminal's whole transcript is compared at the end.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class DirectScenarioTests
{
    private const string Prompt = "Enter destination user ID:";
    private const string TurnedAway = "Turned away an incoming direct call: you are busy.";
    private const string Established = "Connection established, type your messages";
    private const string Ended = "Connection ended";

    private static string Received(string from) => $"Connection received from user {from}, type your messages";

    [Fact]
    public async Task Seed_session_ali_calls_bianca_and_ends_it_with_ctrl_c_then_both_take_the_next_call()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var bianca = await StartDirectAsync(server, "bianca", "127.0.0.3");
        await using var ali = await StartDirectAsync(server, "ali", "127.0.0.2");

        await ali.SendLineAsync("bianca");
        await ali.ExpectLineAsync(Established);
        await bianca.ExpectLineAsync(Received("ali"));
        await ali.SendLineAsync("Hello, how are you today?");
        await bianca.ExpectLineAsync("Hello, how are you today?");
        await bianca.SendLineAsync("I am fine, how about you?");
        await ali.ExpectLineAsync("I am fine, how about you?");
        await ali.SendLineAsync("I am well. Goodbye.");
        await bianca.ExpectLineAsync("I am well. Goodbye.");

        // Ctrl-C at ali's terminal ends the chat, not the program; both go back to the prompt.
        ali.Interrupt();
        await ali.ExpectLineAsync(Ended);
        await ali.ExpectLineAsync(Prompt);
        await bianca.ExpectLineAsync(Ended);
        await bianca.ExpectLineAsync(Prompt);

        // Ali's terminal still listens: bianca calls her.
        await bianca.SendLineAsync("ali");
        await bianca.ExpectLineAsync(Established);
        await ali.ExpectLineAsync(Received("bianca"));
        await bianca.SendLineAsync("Me again.");
        await ali.ExpectLineAsync("Me again.");
        await ali.SendLineAsync("Hi again.");
        await bianca.ExpectLineAsync("Hi again.");
        bianca.Interrupt();
        await bianca.ExpectLineAsync(Ended);
        await bianca.ExpectLineAsync(Prompt);
        await ali.ExpectLineAsync(Ended);
        await ali.ExpectLineAsync(Prompt);

        await QuitAsync(ali, bianca);
        Assert.Equal(["Logged in.", Prompt, Established, "I am fine, how about you?", Ended, Prompt, Received("bianca"), "Me again.", Ended, Prompt],
            ali.Transcript);
        Assert.Equal(["Logged in.", Prompt, Received("ali"), "Hello, how are you today?", "I am well. Goodbye.", Ended, Prompt,
            Established, "Hi again.", Ended, Prompt], bianca.Transcript);
    }

    [Fact]
    public async Task Seed_session_bianca_calls_ali_and_ends_it_with_ctrl_c_a_caller_meanwhile_hears_busy_and_the_next_call_is_accepted()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var ali = await StartDirectAsync(server, "ali", "127.0.0.2");
        await using var bianca = await StartDirectAsync(server, "bianca", "127.0.0.3");
        await using var carol = await StartDirectAsync(server, "carol", "127.0.0.4");

        await bianca.SendLineAsync("ali");
        await bianca.ExpectLineAsync(Established);
        await ali.ExpectLineAsync(Received("bianca"));

        // Carol calls ali while she talks to bianca: busy, and carol is back at her prompt.
        await carol.SendLineAsync("ali");
        await carol.ExpectLineAsync("Connection refused by ali: busy.");
        await carol.ExpectLineAsync(Prompt);
        await ali.ExpectLineAsync(TurnedAway); // ali is told too (issue #6: refusals are told to both sides)

        await bianca.SendLineAsync("Hello, how are you today?");
        await ali.ExpectLineAsync("Hello, how are you today?");
        await ali.SendLineAsync("I am fine, how about you?");
        await bianca.ExpectLineAsync("I am fine, how about you?");
        await bianca.SendLineAsync("I am well. Goodbye.");
        await ali.ExpectLineAsync("I am well. Goodbye.");

        bianca.Interrupt();
        await bianca.ExpectLineAsync(Ended);
        await bianca.ExpectLineAsync(Prompt);
        await ali.ExpectLineAsync(Ended);
        await ali.ExpectLineAsync(Prompt);

        // Bianca's terminal (she pressed Ctrl-C) accepts the next call, from carol.
        await carol.SendLineAsync("bianca");
        await carol.ExpectLineAsync(Established);
        await bianca.ExpectLineAsync(Received("carol"));
        await carol.SendLineAsync("Free now?");
        await bianca.ExpectLineAsync("Free now?");

        // Bianca quits in the middle of the call: carol's chat ends as after a Ctrl-C.
        var biancaSaw = bianca.Transcript;
        await QuitAsync(bianca);
        await carol.ExpectLineAsync(Ended);
        await carol.ExpectLineAsync(Prompt);

        await QuitAsync(ali, carol);
        Assert.Equal(["Logged in.", Prompt, Received("bianca"), TurnedAway, "Hello, how are you today?", "I am well. Goodbye.", Ended, Prompt], ali.Transcript);
        Assert.Equal(["Logged in.", Prompt, Established, "I am fine, how about you?", Ended, Prompt, Received("carol"), "Free now?"], biancaSaw);
        Assert.Equal(["Logged in.", Prompt, "Connection refused by ali: busy.", Prompt, Established, Ended, Prompt], carol.Transcript);
    }

    [Fact]
    public async Task Calling_a_user_who_logged_off_or_does_not_exist_says_NOTFOUND_and_asks_again()
    {
        await using var server = await ServerProcess.StartAsync();
        await using (var bianca = await StartDirectAsync(server, "bianca", "127.0.0.3"))
        {
            await bianca.SendLineAsync("/quit");
            Assert.Equal(0, await bianca.WaitForExitAsync());
        }

        await server.Process.WaitForStderrAsync(l => l.Contains("bianca disconnected", StringComparison.Ordinal));
        await using var ali = await StartDirectAsync(server, "ali", "127.0.0.2");

        await ali.SendLineAsync("bianca");
        await ali.ExpectLineAsync("bianca was not found (NOTFOUND): not logged on, or not taking direct calls.");
        await ali.ExpectLineAsync(Prompt);
        await ali.SendLineAsync("nobody");
        await ali.ExpectLineAsync("nobody was not found (NOTFOUND): not logged on, or not taking direct calls.");
        await ali.ExpectLineAsync(Prompt);

        await QuitAsync(ali);
        Assert.Equal(["Logged in.", Prompt, "bianca was not found (NOTFOUND): not logged on, or not taking direct calls.", Prompt,
            "nobody was not found (NOTFOUND): not logged on, or not taking direct calls.", Prompt], ali.Transcript);
    }

    [Fact]
    public async Task Biancas_terminal_refuses_ali_from_another_address_and_an_impostor_without_alis_key_and_says_why()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("ali", PasswordOf("ali"));
        await using var bianca = await StartDirectAsync(server, "bianca", "127.0.0.3");

        // Ali is a library client here (so the test holds her key), logged on from 127.0.0.2 and listening.
        var options = new ParleyClientOptions { Host = "127.0.0.1", Port = server.UdpPort, LocalAddress = IPAddress.Parse("127.0.0.2") };
        await using var ali = await ParleyConnection.LogOnAsync(options, "ali", PasswordOf("ali"), Timeout());
        using var aliKeys = await EndToEndSession.StartAsync(ali, PasswordOf("ali"), ContactBook.InMemory(), Timeout());
        using var aliListener = new TcpListener(options.LocalAddress!, 0);
        aliListener.Start();
        await ali.ListenAsync(((IPEndPoint)aliListener.LocalEndpoint).Port, Timeout());
        var lookup = await ali.LookupAsync("bianca", Timeout());
        Assert.Equal((LookupStatus.Success, "127.0.0.3"), (lookup.Status, lookup.Address));
        var biancaAt = new IPEndPoint(IPAddress.Parse(lookup.Address), lookup.Port);
        var biancaKey = (await aliKeys.ContactAsync("bianca", cancellationToken: Timeout())).Current!;

        // Ali's own key, from an address she did not log on from.
        var moved = await Assert.ThrowsAsync<DirectCallException>(() =>
            DirectLink.CallAsync(biancaAt, aliKeys, "bianca", biancaKey, options with { LocalAddress = IPAddress.Parse("127.0.0.4") }, Timeout()));
        Assert.Equal("Connection refused by bianca: address mismatch.", moved.Message);
        await bianca.ExpectLineAsync("Refused a connection from ali (127.0.0.4): address mismatch.");

        // Someone at ali's address calling as ali, signing with a key of their own (a real "ali" on another server).
        await using var elsewhere = await InProcessServer.StartAsync();
        elsewhere.AddUser("ali", "impostor-password");
        var impostorOptions = elsewhere.ClientOptions with { LocalAddress = IPAddress.Parse("127.0.0.2") };
        await using var impostor = await ParleyConnection.LogOnAsync(impostorOptions, "ali", "impostor-password", Timeout());
        using var impostorKeys = await EndToEndSession.StartAsync(impostor, "impostor-password", ContactBook.InMemory(), Timeout());
        var forged = await Assert.ThrowsAsync<DirectCallException>(() =>
            DirectLink.CallAsync(biancaAt, impostorKeys, "bianca", biancaKey, impostorOptions, Timeout()));
        Assert.Equal("Connection refused by bianca: key proof failed.", forged.Message);
        await bianca.ExpectLineAsync("Refused a connection from ali (127.0.0.2): key proof failed.");

        // The real ali, from her address, gets through.
        await using (var call = await DirectLink.CallAsync(biancaAt, aliKeys, "bianca", biancaKey, options, Timeout()))
        {
            await bianca.ExpectLineAsync(Received("ali"));
            await call.SendAsync("It is really me.");
            await bianca.ExpectLineAsync("It is really me.");
            await bianca.SendLineAsync("I know.");
            Assert.Equal("I know.", await call.ReceiveAsync(Timeout()));
        }

        await bianca.ExpectLineAsync(Ended);
        await bianca.ExpectLineAsync(Prompt);
        await QuitAsync(bianca);
        Assert.Equal(["Logged in.", Prompt, "Refused a connection from ali (127.0.0.4): address mismatch.",
            "Refused a connection from ali (127.0.0.2): key proof failed.", Received("ali"), "It is really me.", Ended, Prompt], bianca.Transcript);
    }

    [Fact]
    public async Task A_silent_connection_to_biancas_port_does_not_hold_up_a_real_call()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var bianca = await StartDirectAsync(server, "bianca", "127.0.0.3");
        await using var ali = await StartDirectAsync(server, "ali", "127.0.0.2");

        // Anyone can find bianca's port (here a user who is logged on) and connect to it without saying a word.
        await server.AddUserAsync("mallory", PasswordOf("mallory"));
        var options = new ParleyClientOptions { Host = "127.0.0.1", Port = server.UdpPort, LocalAddress = IPAddress.Parse("127.0.0.9") };
        await using var mallory = await ParleyConnection.LogOnAsync(options, "mallory", PasswordOf("mallory"), Timeout());
        var lookup = await mallory.LookupAsync("bianca", Timeout());
        using (var silent = new TcpClient(new IPEndPoint(options.LocalAddress!, 0)))
        {
            await silent.ConnectAsync(IPAddress.Parse(lookup.Address), lookup.Port, Timeout());

            // Ali's call goes through while that connection still waits out its handshake timeout (10 s): the very
            // next thing bianca sees is ali's call, not the silent one giving up.
            await ali.SendLineAsync("bianca");
            await ali.ExpectLineAsync(Established);
            await bianca.ExpectLineAsync(Received("ali"));
            await ali.SendLineAsync("Anyone else there?");
            await bianca.ExpectLineAsync("Anyone else there?");
        }

        // The silent caller leaves without a request: bianca says so and her call goes on.
        await bianca.ExpectLineAsync("Refused a direct connection: it did not start with a valid Connect Request.");
        await bianca.SendLineAsync("Only you.");
        await ali.ExpectLineAsync("Only you.");
        await QuitAsync(ali, bianca);
    }

    [Fact]
    public async Task Ctrl_c_while_the_call_is_still_ringing_cancels_it_and_asks_again()
    {
        await using var server = await ServerProcess.StartAsync();

        // Bianca's terminal (a library client) takes the connection but never answers it.
        await server.AddUserAsync("bianca", PasswordOf("bianca"));
        var options = new ParleyClientOptions { Host = "127.0.0.1", Port = server.UdpPort, LocalAddress = IPAddress.Parse("127.0.0.3") };
        await using var bianca = await ParleyConnection.LogOnAsync(options, "bianca", PasswordOf("bianca"), Timeout());
        using var biancaKeys = await EndToEndSession.StartAsync(bianca, PasswordOf("bianca"), ContactBook.InMemory(), Timeout());
        using var listener = new TcpListener(options.LocalAddress!, 0);
        listener.Start();
        await bianca.ListenAsync(((IPEndPoint)listener.LocalEndpoint).Port, Timeout());
        Assert.Equal(LookupStatus.Success, (await bianca.LookupAsync("bianca", Timeout())).Status); // her LISTEN is recorded

        await using var ali = await StartDirectAsync(server, "ali", "127.0.0.2");
        await ali.SendLineAsync("bianca");
        using var ringing = await listener.AcceptTcpClientAsync(Timeout());
        using var fromAli = new MessageChannel(new StreamDuplexPipe(ringing.GetStream()));
        Assert.IsType<ConnectRequest>(await fromAli.ReadAsync(Timeout())); // ali now waits for bianca's challenge

        ali.Interrupt();
        await ali.ExpectLineAsync("Call cancelled.");
        await ali.ExpectLineAsync(Prompt);

        // Ali hung up the connection, and her terminal is still running and logged on.
        Assert.Null(await fromAli.ReadAsync(Timeout()));
        await ali.SendLineAsync("nobody");
        await ali.ExpectLineAsync("nobody was not found (NOTFOUND): not logged on, or not taking direct calls.");
        await QuitAsync(ali);
        Assert.Equal(["Logged in.", Prompt, "Call cancelled.", Prompt, "nobody was not found (NOTFOUND): not logged on, or not taking direct calls.", Prompt],
            ali.Transcript);
    }

    [Fact]
    public async Task In_the_unified_client_call_starts_a_direct_chat_and_hangup_ends_it()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var bianca = await LogOnAsync(server, "bianca", add: true, "--room=none", "--source-address", "127.0.0.3");
        await using var ali = await LogOnAsync(server, "ali", add: true, "--room=none", "--source-address", "127.0.0.2");

        await ali.SendLineAsync("/call bianca");
        await ali.ExpectLineAsync("Connection established with bianca, type your messages");
        await bianca.ExpectLineAsync(Received("ali"));
        await ali.SendLineAsync("Hello over the direct link");
        await bianca.ExpectMessageAsync("[call] ali: Hello over the direct link");
        await bianca.SendLineAsync("Hello back");
        await ali.ExpectMessageAsync("[call] bianca: Hello back");

        await ali.SendLineAsync("/hangup");
        await ali.ExpectLineAsync(Ended);
        await bianca.ExpectLineAsync(Ended);

        // Out of the call, a line is a command again (here a DM through the server), and /hangup has nothing to end.
        await ali.SendLineAsync("/dm bianca back through the server");
        await ali.ExpectLineAsync("Message sent");
        await bianca.ExpectMessageAsync("[DM] ali: back through the server");
        await ali.SendLineAsync("/hangup");
        await ali.ExpectLineAsync("You are not in a direct call.");

        await QuitAsync(ali, bianca);
        Assert.Equal(["Connected", "Connection established with bianca, type your messages", "[call] bianca: Hello back", Ended, "Message sent", "You are not in a direct call."], ali.Transcript);
        Assert.Equal(["Connected", Received("ali"), "[call] ali: Hello over the direct link", Ended, "[DM] ali: back through the server"], bianca.Transcript);
    }

    /// <summary>Adds <paramref name="clientId"/> and starts seed 000's terminal for it on <paramref name="address"/>, up to its first prompt.</summary>
    private static async Task<ParleyProcess> StartDirectAsync(ServerProcess server, string clientId, string address)
    {
        await server.AddUserAsync(clientId, PasswordOf(clientId));
        var client = await server.StartClientAsync(clientId, PasswordOf(clientId), "--direct", "--source-address", address);
        await client.ExpectLineAsync("Logged in.");
        await client.ExpectLineAsync(Prompt);
        return client;
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(InProcessServer.Timeout).Token;
}
