using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.SqlServer.Migrations
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
                    Id = table.Column<int>(type: "int", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    Name = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    OwnerId = table.Column<string>(type: "nvarchar(450)", maxLength: 450, nullable: false),
                    Subject = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    MetricId = table.Column<int>(type: "int", nullable: true),
                    DashboardId = table.Column<int>(type: "int", nullable: true),
                    TileId = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: true),
                    SegmentId = table.Column<int>(type: "int", nullable: true),
                    ConditionJson = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    ScheduleJson = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    NextCheckAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    RecipientsJson = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    Firing = table.Column<bool>(type: "bit", nullable: false),
                    Muted = table.Column<bool>(type: "bit", nullable: false),
                    SnoozedUntil = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    LastCheckedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
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
                    Id = table.Column<int>(type: "int", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    Target = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    DashboardId = table.Column<int>(type: "int", nullable: true),
                    SegmentId = table.Column<int>(type: "int", nullable: true),
                    UserId = table.Column<string>(type: "nvarchar(450)", maxLength: 450, nullable: true),
                    Role = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true),
                    CreatedById = table.Column<string>(type: "nvarchar(450)", maxLength: 450, nullable: false),
                    ScheduleJson = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    NextRunAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Paused = table.Column<bool>(type: "bit", nullable: false),
                    LastSentAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Subscriptions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AlertChecks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    AlertId = table.Column<int>(type: "int", nullable: false),
                    Trigger = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Status = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    DueAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    CheckedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Attempts = table.Column<int>(type: "int", nullable: false),
                    Value = table.Column<double>(type: "float", nullable: true),
                    Compared = table.Column<double>(type: "float", nullable: true),
                    Threshold = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: true),
                    Met = table.Column<bool>(type: "bit", nullable: false),
                    Transition = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true),
                    SentTo = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true)
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
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    SubscriptionId = table.Column<int>(type: "int", nullable: false),
                    AfterRefresh = table.Column<bool>(type: "bit", nullable: false),
                    Status = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    DueAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    DoneAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Attempts = table.Column<int>(type: "int", nullable: false),
                    Messages = table.Column<int>(type: "int", nullable: false),
                    Note = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true)
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
