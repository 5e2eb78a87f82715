namespace Parley.Tests.Support;

/// <summary>Steps the end-to-end scenario tests share, with real <c>parley</c> processes.</summary>
internal static class ScenarioSteps
{
    /// <summary>The password these tests give <paramref name="clientId"/>.</summary>
    public static string PasswordOf(string clientId) => clientId.ToLowerInvariant() + "-password";

    /// <summary>Adds <paramref name="clientId"/> (unless <paramref name="add"/> is false) and logs a client on as it.</summary>
    public static async Task<ParleyProcess> LogOnAsync(ServerProcess server, string clientId, bool add, params string[] extra)
    {
        var password = PasswordOf(clientId);
        if (add)
        {
            await server.AddUserAsync(clientId, password);
        }

        var client = await server.StartClientAsync(clientId, password, extra);
        await client.SendLineAsync("Log on");
        await client.ExpectLineAsync("Connected");
        return client;
    }

    /// <summary>As <see cref="LogOnAsync"/>, with no room joined (--room=none), so only the lines under test are printed.</summary>
    public static Task<ParleyProcess> LogOnWithoutRoomAsync(ServerProcess server, string clientId, bool add = true) =>
        LogOnAsync(server, clientId, add, "--room=none");

    /// <summary>
    /// Adds <paramref name="clientId"/> (unless <paramref name="add"/> is false) and logs it on once, then off: the
    /// first log-on makes and publishes its encryption key (issue #5), without which nobody can send it a message.
    /// Returns once the server has seen it leave, so a DM sent next finds it offline.
    /// </summary>
    public static async Task LogOnOnceAsync(ServerProcess server, string clientId, bool add = true)
    {
        await using (var client = await LogOnAsync(server, clientId, add, "--room=none"))
        {
            await client.SendLineAsync("/quit");
            Assert.Equal(0, await client.WaitForExitAsync());
        }

        await server.Process.WaitForStderrAsync(l => l.Contains($"{clientId} disconnected", StringComparison.Ordinal));
    }

    /// <summary>/quit at each client; each must exit 0.</summary>
    public static async Task QuitAsync(params ParleyProcess[] clients)
    {
        foreach (var client in clients)
        {
            await client.SendLineAsync("/quit");
            Assert.True(await client.WaitForExitAsync() == 0, $"{client.Name} exited with an error:\n{client.Stderr}");
        }
    }

    /// <summary>A DM to someone offline: seed 003's "Message sent", then that it waits for their next log-on.</summary>
    public static async Task SendOfflineAsync(ParleyProcess from, string to, string text)
    {
        await from.SendLineAsync($"/dm {to} {text}");
        await from.ExpectLineAsync("Message sent");
        await from.ExpectLineAsync($"{to} is offline and will see it at their next log-on.");
    }
}
