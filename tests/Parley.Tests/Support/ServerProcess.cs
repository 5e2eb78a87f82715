using System.Text.RegularExpressions;

namespace Parley.Tests.Support;

/// <summary>A real <c>parley server</c> process on loopback port 0 with a temporary data directory.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private ServerProcess(ParleyProcess process, string dataDirectory, int udpPort, int tcpPort)
    {
        Process = process;
        DataDirectory = dataDirectory;
        UdpPort = udpPort;
        TcpPort = tcpPort;
    }

    public ParleyProcess Process { get; }

    public string DataDirectory { get; }

    public int UdpPort { get; }

    public int TcpPort { get; }

    private bool _keepDirectory;
    private bool _killed;

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

    /// <summary>SIGKILL, as in a crash: clients get no goodbye. The data directory is kept for <see cref="StartAgainAsync"/>.</summary>
    public async Task KillAsync()
    {
        _killed = true;
        _keepDirectory = true;
        await Process.KillAsync();
    }

    /// <summary>
    /// A new server on this one's data directory and on the same UDP and TCP ports, as an operator restarting it would,
    /// so that its clients can find it again; this one must have stopped (<see cref="KillAsync"/>, or SIGTERM). A port
    /// another program took while no server held it fails the test at once, saying so, rather than after a timeout.
    /// </summary>
    public async Task<ServerProcess> StartAgainAsync(params string[] extra)
    {
        Assert.True(Process.HasExited, "the server is still running");
        _keepDirectory = true;
        var ports = Ports(UdpPort, TcpPort);
        string[] args = ["server", "--data-dir", DataDirectory, .. ports, "--scram-iterations", "4096", .. extra];
        var process = ParleyProcess.Start("server", args);
        var ready = process.ExpectLineAsync(ReadyLine());
        if (await Task.WhenAny(ready, process.WaitForExitAsync()) != ready)
        {
            await process.DisposeAsync();
            Assert.Fail($"The server could not start again on udp {UdpPort} and tcp {TcpPort} (another program may have taken one of them):\n{process.Stderr}");
        }

        await ready;
        return new ServerProcess(process, DataDirectory, UdpPort, TcpPort);
    }

    private static string[] Ports(int udp, int tcp) =>
        ["--port", udp.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tcp-port", tcp.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>A server on an existing data directory (one a killed server left behind, say); it deletes the directory when disposed.</summary>
    public static Task<ServerProcess> StartOnAsync(string dataDirectory, params string[] extra) => StartInAsync(dataDirectory, extra);

    private static async Task<ServerProcess> StartInAsync(string dataDirectory, string[] extra)
    {
        string[] args = ["server", "--data-dir", dataDirectory, "--port", "0", "--scram-iterations", "4096", .. extra];
        var process = ParleyProcess.Start("server", args);
        var ready = await process.ExpectLineAsync(ReadyLine());
        return new ServerProcess(process, dataDirectory, int.Parse(ready.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(ready.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
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
            Assert.True(exit == 0 || _killed, $"server exited with {exit}:\n{Process.Stderr}");
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

    [GeneratedRegex(@"^Parley server listening on udp 127\.0\.0\.1:(\d+) and tcp 127\.0\.0\.1:(\d+); database .+parley\.db$")]
    private static partial Regex ReadyLine();
}
