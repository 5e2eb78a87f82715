using System.Text.RegularExpressions;

namespace Parley.Tests.Support;

/// <summary>A real <c>parley server</c> process on loopback port 0 with a temporary data directory.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private ServerProcess(ParleyProcess process, string dataDirectory, int udpPort)
    {
        Process = process;
        DataDirectory = dataDirectory;
        UdpPort = udpPort;
    }

    public ParleyProcess Process { get; }

    public string DataDirectory { get; }

    public int UdpPort { get; }

    private bool _keepDirectory;

    public static Task<ServerProcess> StartAsync(params string[] extra) =>
        StartInAsync(Directory.CreateTempSubdirectory("parley-e2e-").FullName, extra);

    /// <summary>Stops this server with SIGTERM (it must exit 0) and starts a new one on the same data directory.</summary>
    public async Task<ServerProcess> RestartAsync(params string[] extra)
    {
        _keepDirectory = true;
        var exit = await Process.TerminateAsync();
        Assert.True(exit == 0, $"server exited with {exit}:\n{Process.Stderr}");
        return await StartInAsync(DataDirectory, extra);
    }

    /// <summary>A server on an existing data directory (one a killed server left behind, say); it deletes the directory when disposed.</summary>
    public static Task<ServerProcess> StartOnAsync(string dataDirectory, params string[] extra) => StartInAsync(dataDirectory, extra);

    private static async Task<ServerProcess> StartInAsync(string dataDirectory, string[] extra)
    {
        string[] args = ["server", "--data-dir", dataDirectory, "--port", "0", "--scram-iterations", "4096", .. extra];
        var process = ParleyProcess.Start("server", args);
        var ready = await process.ExpectLineAsync(ReadyLine());
        return new ServerProcess(process, dataDirectory, int.Parse(ready.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The server's database, opened beside the running server as its operator could.</summary>
    public Microsoft.Data.Sqlite.SqliteConnection OpenDatabase() =>
        OperatorDatabase.Open(Path.Combine(DataDirectory, Storage.ParleyDatabase.FileName));

    /// <summary>Where a client keeps <paramref name="clientId"/>'s trusted contacts for this server (ContactBook's layout).</summary>
    public string ContactsFile(string stateDirectory, string clientId) =>
        Path.Combine(stateDirectory, $"127.0.0.1_{UdpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}", clientId, "contacts.json");

    public async Task AddUserAsync(string clientId, string password)
    {
        var (exit, lines, stderr) = await ParleyProcess.RunAsync(password,
            "user", "add", clientId, "--password-stdin", "--data-dir", DataDirectory, "--scram-iterations", "4096");
        Assert.True(exit == 0, stderr);
        Assert.Equal([$"Added {clientId}"], lines);
    }

    /// <summary>Where this test's clients keep their trusted contact keys unless a test gives its own --state-dir.</summary>
    public string ClientStateDirectory => Path.Combine(DataDirectory, "clients");

    /// <summary>
    /// Starts <c>parley chat</c> for <paramref name="clientId"/>; the password is the first stdin line. Every client
    /// of this server shares <see cref="ClientStateDirectory"/>, as one user's runs on one machine would.
    /// </summary>
    public async Task<ParleyProcess> StartClientAsync(string clientId, string password, params string[] extra)
    {
        string[] state = extra.Contains("--state-dir") ? [] : ["--state-dir", ClientStateDirectory];

        // Seed 000's port 65000 would be shared by every client of every test: each listens on a free port instead.
        string[] listen = extra.Contains("--listen-port") ? [] : ["--listen-port", "0"];
        var client = ParleyProcess.Start(clientId, ["chat", "--user", clientId, "--host", "127.0.0.1", "--port",
            UdpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--password-stdin", .. state, .. listen, .. extra]);
        await client.SendLineAsync(password);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var exit = await Process.TerminateAsync();
            Assert.True(exit == 0, $"server exited with {exit}:\n{Process.Stderr}");
        }
        finally
        {
            await Process.DisposeAsync();
        }

        if (_keepDirectory)
        {
            return;
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"^Parley server listening on udp 127\.0\.0\.1:(\d+) and tcp 127\.0\.0\.1:\d+; database .+parley\.db$")]
    private static partial Regex ReadyLine();
}
