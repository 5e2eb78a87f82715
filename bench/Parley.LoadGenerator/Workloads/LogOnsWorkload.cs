using System.Diagnostics;
using Parley.Client;
using Parley.LoadGenerator.Hosting;
using Parley.LoadGenerator.Reporting;

namespace Parley.LoadGenerator.Workloads;

/// <summary>
/// Issue #8's <c>logons</c>: full log-ons per second, each the whole of seed 001's connection phase (HELLO,
/// CHALLENGE, RESPONSE, AUTH_SUCCESS over UDP, then TCP connect, CONNECT, CONNECTED), then the link is closed.
/// Each user's PBKDF2 result is derived once, in the warm-up, through <see cref="PasswordKey"/>: the benchmark
/// measures the server and the protocol, not the password hash a person's client pays once per log-on.
/// <c>concurrency</c> loops run at once, each with its own users, so no log-on replaces another.
/// </summary>
internal static class LogOnsWorkload
{
    public static async Task<RunResult> RunAsync(string executable, int users, int concurrency, TimeSpan warmup, TimeSpan duration,
        IEnumerable<string> serverArguments, CancellationToken cancellationToken)
    {
        if (users < 1 || concurrency < 1 || duration <= TimeSpan.Zero)
        {
            throw new ArgumentException("--users, --concurrency and --duration must be above 0.");
        }

        // Loop j logs on users j, j + C, j + 2C...: disjoint only when the count is a multiple of C.
        users = (users + concurrency - 1) / concurrency * concurrency;
        var ids = Enumerable.Range(0, users).Select(i => $"l{i}").ToArray();
        var keys = ids.Select(_ => new PasswordKey(ParleyServerHost.Password)).ToArray();
        await using var host = await ParleyServerHost.StartAsync(executable, ids, serverArguments, null, cancellationToken).ConfigureAwait(false);
        var options = host.ClientOptions();
        long completed = 0;
        long failures = 0;
        var measuring = false;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = Enumerable.Range(0, concurrency).Select(loop => Task.Run(async () =>
        {
            for (var i = loop; !stop.IsCancellationRequested; i += concurrency)
            {
                var user = i % users;
                try
                {
                    var connection = await ParleyConnection.LogOnAsync(options, ids[user], keys[user], stop.Token).ConfigureAwait(false);
                    await connection.DisposeAsync().ConfigureAwait(false);
                    if (Volatile.Read(ref measuring))
                    {
                        Interlocked.Increment(ref completed);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (Exception)
                {
                    // Any failure counts (a refusal, a timeout, a lost link); the loop goes on with its next user.
                    if (Volatile.Read(ref measuring))
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }
        }, CancellationToken.None)).ToArray();

        await Task.Delay(warmup, cancellationToken).ConfigureAwait(false);
        var serverCpu = ProcessStats.CpuMicros(host.ProcessId);
        var started = Stopwatch.GetTimestamp();
        Volatile.Write(ref measuring, true);
        await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref measuring, false);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        serverCpu = ProcessStats.CpuMicros(host.ProcessId) - serverCpu;
        var done = Interlocked.Read(ref completed);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        foreach (var key in keys)
        {
            key.Dispose();
        }

        var metrics = new Dictionary<string, double>
        {
            [MetricNames.LogOnsPerSecond] = done / seconds,
            [MetricNames.Failures] = Interlocked.Read(ref failures),
            ["server_cpu_us_per_logon"] = done > 0 ? serverCpu / done : 0,
        };
        var parameters = new Dictionary<string, double>
        {
            ["users"] = users,
            ["concurrency"] = concurrency,
            ["warmup_s"] = warmup.TotalSeconds,
            ["duration_s"] = duration.TotalSeconds,
        };
        return new RunResult("logons", "parley", parameters, metrics, []);
    }
}
