using System.Net;
using Parley.Client;
using Parley.LoadGenerator.Hosting;
using Parley.LoadGenerator.Reporting;

namespace Parley.LoadGenerator.Workloads;

/// <summary>
/// Issue #8's <c>connections</c>: N users log on and stay idle (keep-alives only); the server's RSS per connection.
/// The figure is the marginal cost, (RSS at N − RSS at N/10) ÷ (N − N/10): the first tenth pays for JIT, pools and
/// the runtime's own growth, which a per-connection figure should not include. RSS at N ÷ N is reported beside it.
/// Clients log on from several loopback addresses (127.0.0.1, .2, ...) so the ephemeral ports of one address
/// (about 28,000 here) are not the limit.
/// </summary>
internal static class ConnectionsWorkload
{
    private const int ConnectionsPerAddress = 10_000;

    public static async Task<RunResult> RunAsync(string executable, int count, TimeSpan settle, IEnumerable<string> serverArguments,
        CancellationToken cancellationToken)
    {
        if (count < 10)
        {
            throw new ArgumentException("--connections must be at least 10.");
        }

        var users = Enumerable.Range(0, count).Select(i => $"c{i}").ToArray();
        await using var host = await ParleyServerHost.StartAsync(executable, users, serverArguments, null, cancellationToken).ConfigureAwait(false);
        var idle = ProcessStats.RssBytes(host.ProcessId);
        var connections = new ParleyConnection[count];
        try
        {
            var tenth = count / 10;
            await LogOnAsync(host, users, connections, 0, tenth, cancellationToken).ConfigureAwait(false);
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            var atTenth = ProcessStats.RssBytes(host.ProcessId);
            await LogOnAsync(host, users, connections, tenth, count, cancellationToken).ConfigureAwait(false);
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            var atAll = ProcessStats.RssBytes(host.ProcessId);
            var lost = connections.Count(c => c.CloseReason is not null);

            var metrics = new Dictionary<string, double>
            {
                [MetricNames.Connections] = count - lost,
                [MetricNames.RssBytesPerConnection] = (atAll - atTenth) / (double)(count - tenth - lost),
                ["rss_bytes_per_connection_total"] = (atAll - idle) / (double)(count - lost),
                [MetricNames.ServerRssBytes] = atAll,
                ["server_rss_bytes_idle"] = idle,
                [MetricNames.Failures] = lost,
            };
            var parameters = new Dictionary<string, double> { ["connections"] = count, ["settle_s"] = settle.TotalSeconds };
            return new RunResult("connections", "parley", parameters, metrics,
                ["rss_bytes_per_connection is the marginal cost between N/10 and N connections"]);
        }
        finally
        {
            await Parallel.ForEachAsync(connections.Where(c => c is not null), async (c, _) => await c.DisposeAsync().ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    private static Task LogOnAsync(ParleyServerHost host, string[] users, ParleyConnection[] connections, int from, int to, CancellationToken cancellationToken) =>
        Parallel.ForAsync(from, to, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var local = new IPAddress([127, 0, 0, (byte)(1 + (i / ConnectionsPerAddress))]);
            connections[i] = await ParleyConnection.LogOnAsync(host.ClientOptions(local), users[i], ParleyServerHost.Password, ct)
                .ConfigureAwait(false);
        });
}
