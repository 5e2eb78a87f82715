using System.CommandLine;
using System.Net.Sockets;
using System.Text;
using Parley.Cli.Commands;
using Parley.Cli.Configuration;

namespace Parley.Cli.Server;

/// <summary>
/// <c>parley admin &lt;command&gt;</c> (issue #7): the server console's commands from another shell, over the running
/// server's admin socket (a Unix socket only the server's user may open). Prints what the console would print; the
/// exit code is 0 when the command did what was asked, 1 when the server refused it, 2 when no server answered.
/// </summary>
internal static class AdminCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var words = new Argument<string[]>("command")
        {
            Description = "users | sessions | kick <id> [reason] | broadcast <text> | TERMINATE | help",
            Arity = ArgumentArity.OneOrMore,
        };
        // Found as the server finds it (flag < env < parley.json), so a plain `parley admin users` reaches the server
        // started with the same configuration.
        var settings = new SettingOptions([ServerSettings.DataDir, ServerSettings.AdminSocket]);
        var command = new Command("admin", "Run a console command on the running server (users, sessions, kick, broadcast, TERMINATE)") { words };
        settings.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            if (CommonOptions.Resolve(settings, result)?.Server is not { } options)
            {
                return 2;
            }

            if (options.AdminSocketPath is not { } path)
            {
                await Console.Error.WriteLineAsync("The admin socket is turned off (admin-socket none); use the server's console.").ConfigureAwait(false);
                return 2;
            }

            return await RunAsync(Path.GetFullPath(path), string.Join(' ', result.GetValue(words)!), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(string path, string line, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        string answer;
        try
        {
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            await client.SendAsync(Encoding.UTF8.GetBytes(line.ReplaceLineEndings(" ") + "\n"), timeout.Token).ConfigureAwait(false);
            using var received = new MemoryStream();
            var buffer = new byte[4096];
            while (await client.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false) is > 0 and var count)
            {
                received.Write(buffer, 0, count);
            }

            answer = Encoding.UTF8.GetString(received.GetBuffer(), 0, (int)received.Length);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            await Console.Error.WriteLineAsync($"Permission denied on {path}: run parley admin as the user the server runs as.").ConfigureAwait(false);
            return 2;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"No Parley server answered on {path} ({e.Message}). Is it running, with this --data-dir or --admin-socket?").ConfigureAwait(false);
            return 2;
        }

        if (answer.Length == 0)
        {
            // The server closes without a word on someone who is not its user (the socket's mode was loosened).
            await Console.Error.WriteLineAsync($"The server at {path} closed the connection without answering: run parley admin as the user the server runs as.").ConfigureAwait(false);
            return 2;
        }

        var lines = answer.Split('\n');
        foreach (var output in lines.Skip(1).SkipLast(1))
        {
            Console.WriteLine(output);
        }

        return lines[0] == "ok" ? 0 : 1;
    }
}
