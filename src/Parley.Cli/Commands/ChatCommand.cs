using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Parley.Cli.ChatClient;
using Parley.Cli.Terminal;
using Parley.Client;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley chat</c>: the terminal client. On a terminal it has a line editor and asks for the password without
/// echo; with stdin redirected it reads one command per line and prints one event per line, and the password comes
/// from <c>--password-stdin</c> (the first input line) or PARLEY_PASSWORD; that one password serves log-on and
/// sign-up, and <c>/passwd</c> takes the new password from the next input line.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var defaults = new ParleyClientOptions();
        // No default values here: one left out comes from the last log-on (client.json in --state-dir) if there is one.
        var user = new Option<string?>("--user", "-u") { Description = "Client ID to log on as [env PARLEY_USER] [default: the last one logged on as]" };
        var host = new Option<string?>("--host") { Description = $"Server name or address [default: the last server logged on to, else {defaults.Host}]" };
        var port = new Option<int?>("--port") { Description = $"Server UDP port [default: the last server's, else {defaults.Port}]" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to keep retrying UDP before giving up", DefaultValueFactory = _ => defaults.UdpTimeout.TotalSeconds };
        var stdin = CommonOptions.PasswordStdin();
        var logOn = new Option<bool>("--logon") { Description = "Log on at start instead of waiting for \"Log on\"" };
        var room = new Option<string>("--room")
        {
            Description = "Room to join at log-on, or \"none\" (seed 004's room; 003's PM always goes to #lobby)",
            DefaultValueFactory = _ => Protocol.Rooms.Default,
        };
        room.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (value != "none" && Protocol.Rooms.Normalize(value) is null)
            {
                r.AddError($"--room: {Protocol.Rooms.Rule} Or \"none\".");
            }
        });
        var state = new Option<string>("--state-dir")
        {
            Description = "Where the client keeps the keys it trusts for your contacts and the last server and user [env PARLEY_STATE_DIR]",
            DefaultValueFactory = _ => DefaultStateDirectory(),
        };
        var direct = new Option<bool>("--direct") { Description = "Seed 000's terminal: log on, then type whom to call; chats go terminal to terminal" };
        var listenPort = new Option<int>("--listen-port")
        {
            Description = "TCP port for direct calls to you (0 = any free port, -1 = take none); a taken port falls back to a free one",
            DefaultValueFactory = _ => defaults.ListenPort,
        };
        var source = new Option<string?>("--source-address") { Description = "Local address for every socket (log-on, link, direct calls), e.g. 127.0.0.2" };

        // Issue #9, docs/PROTOCOL.md §8.2: after a lost link or a server restart the client logs on again by itself.
        var noReconnect = new Option<bool>("--no-reconnect") { Description = "Stay logged off when the link to the server is lost or the server shuts down, instead of logging on again" };
        var reconnectDelay = new Option<double>("--reconnect-delay")
        {
            Description = "Seconds before the first try to log on again (at least 0.1); each failed try doubles it (±20 % jitter)",
            DefaultValueFactory = _ => ReconnectPolicy.DefaultFirstDelay.TotalSeconds,
        };
        var reconnectMaxDelay = new Option<double>("--reconnect-max-delay")
        {
            Description = "Longest wait in seconds between tries to log on again (1 to 3600)",
            DefaultValueFactory = _ => ReconnectPolicy.DefaultMaxDelay.TotalSeconds,
        };
        var command = new Command("chat", "The terminal chat client")
        {
            user, host, port, timeout, stdin, logOn, room, state, direct, listenPort, source, noReconnect, reconnectDelay, reconnectMaxDelay,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(source) is { } address && !IPAddress.TryParse(address, out _))
            {
                r.AddError($"--source-address: '{address}' is not an IP address.");
            }

            if (r.GetValue(listenPort) is < -1 or > 65535)
            {
                r.AddError("--listen-port must be between -1 and 65535.");
            }

            // A validator sees no default values, only what was typed. The floors keep a client from spending the HELLO
            // budget its address shares with others behind the same NAT (docs/PROTOCOL.md §8.2, §10.5).
            var longest = ReconnectPolicy.Longest.TotalSeconds;
            var shortestMax = ReconnectPolicy.ShortestMaxDelay.TotalSeconds;
            var shortestFirst = ReconnectPolicy.ShortestFirstDelay.TotalSeconds;
            var max = r.GetResult(reconnectMaxDelay) is null ? ReconnectPolicy.DefaultMaxDelay.TotalSeconds : r.GetValue(reconnectMaxDelay);
            var first = r.GetResult(reconnectDelay) is null ? ReconnectPolicy.DefaultFirstDelay.TotalSeconds : r.GetValue(reconnectDelay);
            if (!(max >= shortestMax && max <= longest))
            {
                r.AddError($"--reconnect-max-delay must be at least {shortestMax:0.#} and at most {longest:0} seconds.");
            }
            else if (!(first >= shortestFirst && first <= max))
            {
                r.AddError($"--reconnect-delay must be at least {shortestFirst.ToString("0.0#", CultureInfo.InvariantCulture)} seconds and at most --reconnect-max-delay.");
            }
        });
        command.SetAction(async (result, cancellationToken) =>
        {
            var stateDirectory = result.GetValue(state)!;
            var last = LastServer.Load(stateDirectory, Console.Error);
            var (serverHost, serverPort, clientId) = LastServer.Choose(result.GetValue(host), result.GetValue(port), result.GetValue(user),
                Environment.GetEnvironmentVariable("PARLEY_USER"), last, defaults);
            var options = defaults with
            {
                Host = serverHost,
                Port = serverPort,
                UdpTimeout = TimeSpan.FromSeconds(result.GetValue(timeout)),
                ListenPort = result.GetValue(listenPort),
                LocalAddress = result.GetValue(source) is { } address ? IPAddress.Parse(address) : null,
            };

            // Read the stdin password before anything else reads stdin; it is then kept only for log-ons.
            var scriptPassword = result.GetValue(stdin) ? PasswordReader.FromStdin() : Environment.GetEnvironmentVariable("PARLEY_PASSWORD");
            await using IChatConsole console = Console.IsInputRedirected ? new ScriptConsole(Console.In, Console.Out) : new InteractiveConsole();
            using var quit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var seed000 = result.GetValue(direct);
            var joinRoom = !seed000 && result.GetValue(room) is { } r && r != "none" ? r : null;
            var reconnect = result.GetValue(noReconnect) ? null
                : new ReconnectPolicy(TimeSpan.FromSeconds(result.GetValue(reconnectDelay)), TimeSpan.FromSeconds(result.GetValue(reconnectMaxDelay)));
            var app = new ChatApp(console, options, clientId, scriptPassword, joinRoom, stateDirectory, seed000, reconnect);

            // Issue #7: the last server and user a log-on succeeded with are the next run's defaults.
            app.LoggedOn += loggedOnAs =>
            {
                var now = new LastServer(options.Host, options.Port, loggedOnAs);
                if (now != last)
                {
                    now.Save(stateDirectory, Console.Error);
                    last = now;
                }
            };

            // Program.cs leaves the signals to this command: Ctrl-C ends a direct call if there is one (seed 000),
            // else it quits, logging off first; SIGTERM quits.
            // A signal after the quit was asked for is not caught: the process ends at once, as a stuck program must.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
            {
                if (quit.IsCancellationRequested)
                {
                    return;
                }

                signal.Cancel = true;
                if (!app.Interrupt())
                {
                    quit.Cancel();
                }
            });
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
            {
                if (!quit.IsCancellationRequested)
                {
                    signal.Cancel = true;
                    quit.Cancel();
                }
            });
            if (seed000 && clientId is null)
            {
                app.AskForLogin();
            }
            else if (result.GetValue(logOn) || seed000)
            {
                app.QueueLine("Log on");
            }

            return await app.RunAsync(quit.Token).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>PARLEY_STATE_DIR, else $XDG_STATE_HOME/parley, else ~/.local/state/parley (the XDG base directory default).</summary>
    private static string DefaultStateDirectory()
    {
        if (Environment.GetEnvironmentVariable("PARLEY_STATE_DIR") is { Length: > 0 } explicitDirectory)
        {
            return explicitDirectory;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        var root = xdg is { Length: > 0 } && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        return Path.Combine(root, "parley");
    }
}
