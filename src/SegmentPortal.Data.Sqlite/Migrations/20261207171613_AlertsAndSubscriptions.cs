using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class AlertsAndSubscriptions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Alerts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    MetricId = table.Column<int>(type: "INTEGER", nullable: true),
                    DashboardId = table.Column<int>(type: "INTEGER", nullable: true),
                    TileId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    SegmentId = table.Column<int>(type: "INTEGER", nullable: true),
                    ConditionJson = table.Column<string>(type: "TEXT", nullable: false),
                    ScheduleJson = table.Column<string>(type: "TEXT", nullable: false),
                    NextCheckAt = table.Column<long>(type: "INTEGER", nullable: true),
                    RecipientsJson = table.Column<string>(type: "TEXT", nullable: false),
                    Firing = table.Column<bool>(type: "INTEGER", nullable: false),
                    Muted = table.Column<bool>(type: "INTEGER", nullable: false),
                    SnoozedUntil = table.Column<long>(type: "INTEGER", nullable: true),
                    LastCheckedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Alerts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Alerts_Metrics_MetricId",
                        column: x => x.MetricId,
                        principalTable: "Metrics",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Subscriptions",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Target = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    DashboardId = table.Column<int>(type: "INTEGER", nullable: true),
                    SegmentId = table.Column<int>(type: "INTEGER", nullable: true),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true),
                    Role = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    CreatedById = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                    ScheduleJson = table.Column<string>(type: "TEXT", nullable: false),
                    NextRunAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Paused = table.Column<bool>(type: "INTEGER", nullable: false),
                    LastSentAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Subscriptions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AlertChecks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AlertId = table.Column<int>(type: "INTEGER", nullable: false),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    DueAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CheckedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    Value = table.Column<double>(type: "REAL", nullable: true),
                    Compared = table.Column<double>(type: "REAL", nullable: true),
                    Threshold = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Met = table.Column<bool>(type: "INTEGER", nullable: false),
                    Transition = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    SentTo = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AlertChecks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AlertChecks_Alerts_AlertId",
                        column: x => x.AlertId,
                        principalTable: "Alerts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SubscriptionRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SubscriptionId = table.Column<int>(type: "INTEGER", nullable: false),
                    AfterRefresh = table.Column<bool>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    DueAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DoneAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    Messages = table.Column<int>(type: "INTEGER", nullable: false),
                    Note = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SubscriptionRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SubscriptionRuns_Subscriptions_SubscriptionId",
                        column: x => x.SubscriptionId,
                        principalTable: "Subscriptions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AlertChecks_AlertId_DueAt",
                table: "AlertChecks",
                columns: new[] { "AlertId", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_AlertChecks_Status_DueAt",
                table: "AlertChecks",
                columns: new[] { "Status", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_DashboardId",
                table: "Alerts",
                column: "DashboardId");

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_MetricId",
                table: "Alerts",
                column: "MetricId");

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_NextCheckAt",
                table: "Alerts",
                column: "NextCheckAt");

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_SegmentId",
                table: "Alerts",
                column: "SegmentId");

            migrationBuilder.CreateIndex(
                name: "IX_SubscriptionRuns_Status_DueAt",
                table: "SubscriptionRuns",
                columns: new[] { "Status", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_SubscriptionRuns_SubscriptionId_DueAt",
                table: "SubscriptionRuns",
                columns: new[] { "SubscriptionId", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Subscriptions_DashboardId",
                table: "Subscriptions",
                column: "DashboardId");

            migrationBuilder.CreateIndex(
                name: "IX_Subscriptions_NextRunAt",
                table: "Subscriptions",
                column: "NextRunAt");

            migrationBuilder.CreateIndex(
                name: "IX_Subscriptions_SegmentId",
                table: "Subscriptions",
                column: "SegmentId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AlertChecks");

            migrationBuilder.DropTable(
                name: "SubscriptionRuns");

            migrationBuilder.DropTable(
                name: "Alerts");

            migrationBuilder.DropTable(
                name: "Subscriptions");
        }
    }
}
