using Parley.Client;
using Parley.Protocol.Accounts;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Account commands (issue #3): sign-up (seed 002 "!signup", seed 003's "Welcome new user"), the directory
/// (002 "!LIST") and <c>/passwd</c>. Password rules are checked here because only the client ever sees a password.
/// </summary>
internal sealed partial class ChatApp
{
    private const int MaxPasswordAttempts = 3;

    /// <summary>A password: typed without echo on a terminal, else the one given by --password-stdin or PARLEY_PASSWORD.</summary>
    private Task<string?> AskSecretAsync(string prompt, CancellationToken cancellationToken) =>
        console.IsInteractive && scriptPassword is null ? console.ReadSecretAsync(prompt, cancellationToken) : Task.FromResult(scriptPassword);

    /// <summary>A new password: typed twice on a terminal, else the one given by --password-stdin or PARLEY_PASSWORD.</summary>
    private Task<string?> AskNewPasswordAsync(string clientId, CancellationToken cancellationToken, string? prompt = null) =>
        console.IsInteractive && scriptPassword is null
            ? TypeNewPasswordAsync(prompt ?? $"New password for {clientId}: ", cancellationToken)
            : Task.FromResult(scriptPassword);

    /// <summary>Reads a new password twice without echo; null (with the reason printed) when the two differ.</summary>
    private async Task<string?> TypeNewPasswordAsync(string prompt, CancellationToken cancellationToken)
    {
        var password = await console.ReadSecretAsync(prompt, cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(password) && password != await console.ReadSecretAsync("Repeat the password: ", cancellationToken).ConfigureAwait(false))
        {
            console.WriteLine("The passwords differ; nothing was changed.");
            return null;
        }

        return password;
    }

    private async Task SignUpAsync(string? requestedId, string? invite, CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            console.WriteLine($"You are logged on as {_connection.ClientId}; log off before signing up.");
            return;
        }

        var clientId = requestedId ?? defaultUser;
        if (clientId is null)
        {
            console.WriteLine("Which client ID? Type \"Sign up <client-id>\".");
            return;
        }

        if (AccountRules.CheckNewId(clientId) is { } rule)
        {
            console.WriteLine(rule);
            return;
        }

        var info = await GetSignUpInfoAsync(cancellationToken).ConfigureAwait(false);
        if (info is null || !CanSignUp(info, ref invite, clientId))
        {
            return;
        }

        if (info.Policy == SignUpPolicies.Invite && invite is null)
        {
            invite = await console.ReadSecretAsync("Invite code: ", cancellationToken).ConfigureAwait(false);
        }

        var password = await AskNewPasswordAsync(clientId, cancellationToken).ConfigureAwait(false);
        await CompleteSignUpAsync(info, clientId, password, invite, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Seed 003: after a failed log-on, if the ID is free the user is welcomed as new and asked for a password
    /// ("Welcome new user: renew please enter a new password:"). True when the offer was made.
    /// </summary>
    private async Task<bool> OfferSignUpAsync(string clientId, CancellationToken cancellationToken)
    {
        if (AccountRules.CheckNewId(clientId) is not null)
        {
            return false;
        }

        try
        {
            var info = await ParleySignUp.GetInfoAsync(options, cancellationToken).ConfigureAwait(false);
            if (info.Policy != SignUpPolicies.Open
                || (await ParleySignUp.CheckAsync(options, info, clientId, null, cancellationToken).ConfigureAwait(false)).Code != SignUpCodes.Available)
            {
                return false;
            }

            var password = await AskNewPasswordAsync(clientId, cancellationToken,
                $"Welcome new user: {clientId} please enter a new password (empty to cancel): ").ConfigureAwait(false);
            if (!string.IsNullOrEmpty(password))
            {
                await CompleteSignUpAsync(info, clientId, password, null, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (ParleyClientException)
        {
            return false; // No offer, no harm: the user can still type "Sign up".
        }
    }

    private async Task CompleteSignUpAsync(SignUpInfo info, string clientId, string? password, string? invite, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(password))
        {
            console.WriteLine("No password given: nothing was signed up.");
            return;
        }

        if (AccountRules.CheckNewPassword(clientId, password, info.MinPasswordLength) is { } rule)
        {
            console.WriteLine(rule);
            return;
        }

        SignUpOutcome outcome;
        try
        {
            outcome = await ParleySignUp.SignUpAsync(options, info, clientId, password, invite, cancellationToken).ConfigureAwait(false);
        }
        catch (ParleyClientException e)
        {
            console.WriteLine(Display.Clean(e.Message));
            return;
        }

        console.WriteLine(Display.Clean(outcome.Text));
        if (outcome.Code == SignUpCodes.Created)
        {
            // Seed 002: "When the signup process succeed, the user is prompted with the main menu."
            await TryLogOnAsync(clientId, password, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Seed 002: a failed sign-up sends the user back to the log-on/sign-up menu.
            console.WriteLine("Type \"Sign up <client-id>\" to try another ID, or \"Log on <client-id>\".");
        }
    }

    private async Task<SignUpInfo?> GetSignUpInfoAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ParleySignUp.GetInfoAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ParleyClientException e)
        {
            console.WriteLine(Display.Clean(e.Message));
            return null;
        }
    }

    private bool CanSignUp(SignUpInfo info, ref string? invite, string clientId)
    {
        switch (info.Policy)
        {
            case SignUpPolicies.Closed:
                console.WriteLine("This server does not take sign-ups; ask its administrator for an account.");
                return false;
            case SignUpPolicies.Invite when invite is null && !console.IsInteractive:
                console.WriteLine($"This server needs an invite code to sign up: type \"Sign up {clientId} <invite-code>\".");
                return false;
            case SignUpPolicies.Open:
                invite = null;
                return true;
            default:
                return true;
        }
    }

    private async Task ChangePasswordAsync(string? current, string? next, CancellationToken cancellationToken)
    {
        if (_connection is not { } connection)
        {
            console.WriteLine("You are not logged on. Type \"Log on\" first.");
            return;
        }

        if (string.IsNullOrEmpty(current) || string.IsNullOrEmpty(next))
        {
            console.WriteLine("No password given: nothing was changed.");
            return;
        }

        if (AccountRules.CheckNewPassword(connection.ClientId, next, connection.MinPasswordLength) is { } rule)
        {
            console.WriteLine(rule);
            return;
        }

        if (_e2e is null)
        {
            // The key's backup is wrapped under the current password; changing it without re-wrapping would lose the key.
            console.WriteLine($"Your password was not changed: your encryption key is not unlocked ({Display.Clean(_e2eUnavailable ?? "unknown reason")}), so its backup could not be re-wrapped.");
            return;
        }

        // The new password's key is derived for the new verifier's salt and holds no password (docs/PROTOCOL.md §8.2).
        PasswordKey? key = new(next);
        try
        {
            // The answer (PASSWD_OK or an ERROR) arrives with the other server events.
            // Issue #5: the identity key is re-wrapped under the new password, stored with it in one transaction.
            var backup = _e2e is { } e2e ? await Task.Run(() => e2e.WrapKey(next), cancellationToken).ConfigureAwait(false) : null;
            await connection.ChangePasswordAsync(current, key, backup, cancellationToken).ConfigureAwait(false);
            OnPasswordSent(ref key);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            console.WriteLine("Could not send: the connection to the server is lost.");
        }
        finally
        {
            key?.Dispose();
        }
    }

    /// <summary>Seed 002 "!LIST": the users known to the server with their presence.</summary>
    private void ShowDirectory(ListResp list)
    {
        var online = list.Users.Count(u => u.Online);
        console.WriteLine($"Users ({online} online, {list.Users.Count} listed):");
        var width = list.Users.Count == 0 ? 0 : list.Users.Max(u => u.ClientId.Length);
        foreach (var user in list.Users)
        {
            console.WriteLine($"  {Display.Clean(user.ClientId).PadRight(width)}  {(user.Online ? "online" : "offline")}");
        }

        if (list.Truncated)
        {
            console.WriteLine("  … the list is longer than the server sends at once.");
        }
    }
}
