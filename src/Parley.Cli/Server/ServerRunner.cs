using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Server;
using Parley.Server.Hosting;

namespace Parley.Cli.Server;

/// <summary>
/// Runs a configured server until TERMINATE, SIGINT or SIGTERM, then shuts it down gracefully (issue #7). Logs go to
/// stderr and never contain message text (seed 004); stdout is for the operator: the ready line and the console.
/// </summary>
internal static class ServerRunner
{
    public static async Task<int> RunAsync(ParleyServerOptions options, ServerHostSettings host, CancellationToken cancellationToken)
    {
        var stop = cancellationToken;

        ParleyServer server;
        try
        {
            server = await ParleyServer.StartAsync(options, logging => ConfigureLogging(logging, host), stop).ConfigureAwait(false);
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
            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("Parley server stopping");
            }
        }

        return 0;
    }

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
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
