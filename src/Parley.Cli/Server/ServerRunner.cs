using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Server;
using Parley.Server.Hosting;

namespace Parley.Cli.Server;

/// <summary>
/// Runs a configured server until TERMINATE, SIGINT or SIGTERM, then shuts it down gracefully (issue #7). Logs go to
/// stderr and never contain message text (seed 004); stdout is for the operator: the ready line and the console.
/// </summary>
internal static partial class ServerRunner
{
    public static async Task<int> RunAsync(ParleyServerOptions options, ServerHostSettings host, CancellationToken cancellationToken)
    {
        // SIGINT (Ctrl+C) and SIGTERM (systemd, docker) start a graceful shutdown. Program.cs leaves both signals to
        // this command; a second one is not intercepted, so it ends the process at once if shutdown hangs.
        using var signalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var signal = "";
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.CompareExchange(ref signal, context.Signal.ToString(), "") == "")
            {
                context.Cancel = true;
                signalled.Cancel();
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        ParleyServer server;
        try
        {
            server = await ParleyServer.StartAsync(options, logging => ConfigureLogging(logging, host), signalled.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (signalled.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"Cannot start the server: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        await using (server.ConfigureAwait(false))
        {
            // One line on stdout, for people and for scripts that started the server on port 0.
            Console.WriteLine($"Parley server listening on udp {server.UdpEndPoint} and tcp {server.TcpEndPoint}; database {Path.Combine(options.DataDirectory, Storage.ParleyDatabase.FileName)}");
            if (options.AdminSocketPath is { } socket)
            {
                Console.WriteLine($"Admin socket {Path.GetFullPath(socket)} (parley admin help)");
            }

            if (server.MetricsEndPoint is { } metrics)
            {
                Console.WriteLine($"Metrics http://{metrics}/metrics and /healthz");
            }

            if (host.Console && !InBackground())
            {
                _ = Task.Run(() => ReadConsoleAsync(server));
            }

            var stopped = await Task.WhenAny(server.StopRequested, Task.Delay(Timeout.Infinite, signalled.Token)).ConfigureAwait(false);
            server.RequestStop(stopped == server.StopRequested ? server.StopRequested.Result : signal);
        }

        // Seed 004's last words, once every client has been told and disconnected and history is committed.
        Console.WriteLine("All connections had been terminated");
        Console.WriteLine("Server is shut down");
        return 0;
    }

    /// <summary>
    /// Seed 004's server console: each stdin line is an operator command (TERMINATE, users, kick…), answered on
    /// stdout. The end of stdin (a service's /dev/null, a closed pipe) ends the console, not the server.
    /// </summary>
    private static async Task ReadConsoleAsync(ParleyServer server)
    {
        try
        {
            while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                var reply = server.Execute(line, "console");
                foreach (var output in reply.Lines)
                {
                    Console.WriteLine(output);
                }

                if (server.StopRequested.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The server is gone or stdin is closed: nothing more to read.
        }
    }

    /// <summary>
    /// True when stdin is a terminal whose foreground is another process group (<c>parley server &amp;</c>): reading it
    /// would stop the whole server with SIGTTIN, so such a server has no console (<c>parley admin</c> still works).
    /// </summary>
    private static bool InBackground() =>
        !OperatingSystem.IsWindows() && !Console.IsInputRedirected && GetForegroundGroup(0) is var foreground and > 0 && foreground != GetProcessGroup();

    [LibraryImport("libc", EntryPoint = "tcgetpgrp")]
    private static partial int GetForegroundGroup(int fd);

    [LibraryImport("libc", EntryPoint = "getpgrp")]
    private static partial int GetProcessGroup();

    private static void ConfigureLogging(ILoggingBuilder logging, ServerHostSettings host)
    {
        // One line per event either way; "json" keeps the message template's named values as fields (structured).
        if (host.LogFormat == LogFormats.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            });
        }

        logging.SetMinimumLevel(host.LogLevel);
        // Kestrel and hosting are chatty at Information; their lines show only when debugging (--log-level debug or trace).
        logging.AddFilter("Microsoft", host.LogLevel <= LogLevel.Debug ? host.LogLevel : (LogLevel)Math.Max((int)host.LogLevel, (int)LogLevel.Warning));
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
