using RollingUpgrade.LoadBalancers.AwsElb;

namespace RollingUpgrade.Tests;

/// <summary>
/// AWSSDK.Core's default chain, driven through the environment (instance metadata disabled).
/// Profiles and "no credentials at all" are tested through the CLI in a fresh process
/// (tests/RollingUpgrade.Cli.Tests/ElbV2CliTests.cs): the SDK remembers profile files per process.
/// </summary>
[Collection("environment")]
public sealed class CredentialChainTests : IDisposable
{
    private static readonly string[] Names =
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ];

    private readonly Dictionary<string, string?> _saved = Names.ToDictionary(
        n => n,
        Environment.GetEnvironmentVariable
    );

    public CredentialChainTests()
    {
        foreach (var name in Names)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", "/nonexistent/config");
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Environment_credentials_come_with_their_session_token_and_never_show_the_secret()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIDCHAINTEST");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "chain-secret-value");
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", "chain-session-token");

        var credentials = await AwsCredentialChain.ResolveAsync(CancellationToken.None);

        credentials.ShouldBe(new AwsCredentials("AKIDCHAINTEST", "chain-secret-value", "chain-session-token"));
        credentials.ToString().ShouldNotContain("chain-secret-value");
        credentials.ToString().ShouldNotContain("chain-session-token");
    }

    [Fact]
    public void Region_and_endpoint_come_from_the_plan_then_the_standard_variables()
    {
        AwsCredentialChain.Region(null).ShouldBeNull();
        Environment.SetEnvironmentVariable("AWS_DEFAULT_REGION", "us-east-2");
        AwsCredentialChain.Region(null).ShouldBe("us-east-2");
        Environment.SetEnvironmentVariable("AWS_REGION", "eu-central-1");
        AwsCredentialChain.Region(null).ShouldBe("eu-central-1");
        AwsCredentialChain.Region("eu-west-1").ShouldBe("eu-west-1");

        AwsCredentialChain
            .Endpoint(null, "eu-west-1")
            .ShouldBe(new Uri("https://elasticloadbalancing.eu-west-1.amazonaws.com/"));
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
        AwsCredentialChain.Endpoint(null, "eu-west-1").ShouldBe(new Uri("http://127.0.0.1:4566/"));
        AwsCredentialChain.Endpoint("http://127.0.0.1:5055", "eu-west-1").ShouldBe(new Uri("http://127.0.0.1:5055/"));
    }
}

[CollectionDefinition("environment", DisableParallelization = true)]
public sealed class EnvironmentCollection;
